//! Cloud platforms, hosting, secrets managers and infrastructure-as-code
//! services (DigitalOcean, Heroku, Azure, Databricks, Vault, Terraform Cloud,
//! Cloudflare, Fly.io, Tailscale, Supabase, 1Password, …). AWS has its own
//! file.

use super::SECRET;
use crate::core::finding::Severity;
use crate::core::rules::spec::RuleSpec;

pub(super) const RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "digitalocean_token",
        description: "DigitalOcean personal access, OAuth or refresh token (dop_v1_/doo_v1_/dor_v1_)",
        severity: Severity::Critical,
        keywords: &["dop_v1_", "doo_v1_", "dor_v1_"],
        pattern: token!(r"do[opr]_v1_[a-f0-9]{64}"),
        expected_hosts: &["api.digitalocean.com", "cloud.digitalocean.com"],
        examples: &["Authorization: Bearer dop_v1_«hex:64»", "DIGITALOCEAN_TOKEN=dor_v1_«hex:64»"],
        counter_examples: &["dop_v1_«hex:20»"],
        ..SECRET
    },
    RuleSpec {
        id: "heroku_api_key",
        description: "Heroku platform API key (HRKU-…)",
        keywords: &["hrku-"],
        pattern: token!(r"HRKU-[A-Za-z0-9_-]{58,64}", open),
        expected_hosts: &["api.heroku.com"],
        examples: &["HEROKU_API_KEY=HRKU-AA«b64url:58»", "Authorization: Bearer HRKU-«alnum:60»"],
        counter_examples: &["HRKU-short"],
        ..SECRET
    },
    RuleSpec {
        id: "heroku_api_key_legacy",
        description: "Heroku legacy API key (UUID) in a heroku-named assignment",
        keywords: &["heroku"],
        pattern: named!(r#"(?i:heroku)[A-Za-z0-9_.-]{0,20}["']?\s{0,5}[:=]\s{0,5}["']?(?P<secret>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?-u:\b)"#),
        expected_hosts: &["api.heroku.com"],
        examples: &["HEROKU_API_KEY=«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»", r#"{"heroku_token": "«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»"}"#],
        counter_examples: &["HEROKU_APP=my-app", "request-id: «hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»"],
        ..SECRET
    },
    RuleSpec {
        id: "azure_storage_account_key",
        description: "Azure storage account key inside a connection string (AccountKey=…)",
        severity: Severity::Critical,
        keywords: &["accountkey="],
        pattern: named!(r"(?i:AccountKey=)(?P<secret>[A-Za-z0-9+/]{86}==)"),
        expected_hosts: &[".core.windows.net"],
        examples: &[
            "DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey=«b64:86»==;EndpointSuffix=core.windows.net",
            r#"{"conn":"AccountName=x;AccountKey=«b64:86»=="}"#,
        ],
        counter_examples: &["AccountName=devstoreaccount1;AccountKey=<your-key>"],
        ..SECRET
    },
    RuleSpec {
        id: "azure_shared_access_key",
        description: "Azure Service Bus / Event Hubs / IoT SharedAccessKey in a connection string",
        keywords: &["sharedaccesskey="],
        pattern: named!(r"(?i:SharedAccessKey=)(?P<secret>[A-Za-z0-9+/]{42,43}=)"),
        expected_hosts: &[".servicebus.windows.net", ".azure-devices.net"],
        examples: &["Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=«b64:43»=", r#"{"c":"HostName=h;SharedAccessKey=«b64:43»="}"#],
        counter_examples: &["SharedAccessKeyName=RootManageSharedAccessKey"],
        ..SECRET
    },
    RuleSpec {
        id: "azure_ad_client_secret",
        description: "Microsoft Entra ID (Azure AD) application client secret (…Q~…)",
        keywords: &["0q~", "1q~", "2q~", "3q~", "4q~", "5q~", "6q~", "7q~", "8q~", "9q~"],
        pattern: token!(nodot r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}"; r"(?:[^0-9A-Za-z_~.-]|$)"),
        expected_hosts: &["login.microsoftonline.com"],
        examples: &["client_secret=«alnum:3»8Q~«alnum:34»&grant_type=client_credentials", "AZURE_CLIENT_SECRET=«alnum:3»7Q~«alnum:31»\n"],
        counter_examples: &["abc8Q~short"],
        ..SECRET
    },
    RuleSpec {
        id: "databricks_token",
        description: "Databricks personal access token (dapi…)",
        keywords: &["dapi"],
        pattern: token!(r"dapi[a-f0-9]{32}(?:-[0-9])?"),
        expected_hosts: &[".cloud.databricks.com", ".azuredatabricks.net", ".gcp.databricks.com"],
        examples: &["Authorization: Bearer dapi«hex:32»", "DATABRICKS_TOKEN=dapi«hex:32»-2"],
        counter_examples: &["dapi«hex:8»", "rapidapi«hex:32»"],
        ..SECRET
    },
    RuleSpec {
        id: "hashicorp_vault_token",
        description: "HashiCorp Vault service/batch/recovery token (hvs./hvb./hvr.)",
        severity: Severity::Critical,
        keywords: &["hvs.", "hvb.", "hvr."],
        pattern: token!(r"hv[sbr]\.[A-Za-z0-9_-]{90,300}", open),
        examples: &["X-Vault-Token: hvs.«b64url:95»", "VAULT_TOKEN=hvb.«alnum:138»"],
        counter_examples: &["hvs.«alnum:20»"],
        ..SECRET
    },
    RuleSpec {
        id: "terraform_cloud_token",
        description: "Terraform Cloud / HCP Terraform API token (….atlasv1.…)",
        keywords: &["atlasv1"],
        pattern: token!(r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}", open),
        expected_hosts: &["app.terraform.io"],
        examples: &[r#"credentials "app.terraform.io" { token = "«alnum:14».atlasv1.«b64url:67»" }"#, "TFE_TOKEN=«alnum:14».atlasv1.«alnum:67»"],
        counter_examples: &["x.atlasv1.y"],
        ..SECRET
    },
    RuleSpec {
        id: "doppler_token",
        description: "Doppler personal/service/CLI/SCIM/audit token (dp.pt./dp.st./…)",
        keywords: &["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."],
        pattern: token!(r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}"),
        expected_hosts: &["api.doppler.com"],
        examples: &["DOPPLER_TOKEN=dp.st.«alnum:43»", "Authorization: Bearer dp.pt.«alnum:43»"],
        counter_examples: &["dp.pt.abc"],
        ..SECRET
    },
    RuleSpec {
        id: "cloudflare_origin_ca_key",
        description: "Cloudflare Origin CA key (v1.0-…)",
        keywords: &["v1.0-"],
        pattern: token!(r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}"),
        expected_hosts: &["api.cloudflare.com"],
        examples: &["X-Auth-User-Service-Key: v1.0-«hex:24»-«hex:146»", "CF_ORIGIN_CA_KEY=v1.0-«hex:24»-«hex:146»"],
        counter_examples: &["v1.0-beta"],
        ..SECRET
    },
    RuleSpec {
        id: "cloudflare_api_token",
        description: "Cloudflare API token/key (40 or 37 chars) in a cloudflare/CF_-named assignment",
        keywords: &["cloudflare", "cf_api"],
        pattern: named!(r#"(?i:cloudflare[A-Za-z0-9_.-]{0,20}|cf_api_(?:token|key))["']?\s{0,5}[:=]\s{0,5}["']?(?P<secret>[A-Za-z0-9_-]{40}|[a-f0-9]{37})(?:[^0-9A-Za-z_-]|$)"#),
        min_entropy: 3.0,
        expected_hosts: &["api.cloudflare.com"],
        examples: &["CLOUDFLARE_API_TOKEN=«b64url:39»a", "CF_API_KEY=«hex:37»"],
        counter_examples: &["CLOUDFLARE_ZONE=example.com"],
        ..SECRET
    },
    RuleSpec {
        id: "flyio_token",
        description: "Fly.io access token (fo1_… or FlyV1 fm2_…)",
        keywords: &["fo1_", "fm2_"],
        pattern: token!(r"fo1_[A-Za-z0-9_-]{43}|fm2_[A-Za-z0-9+/]{100,1000}={0,3}", open),
        expected_hosts: &["api.fly.io", "api.machines.dev"],
        examples: &["FLY_API_TOKEN=fo1_«b64url:43»", "Authorization: FlyV1 fm2_«b64:200»=="],
        counter_examples: &["fo1_short"],
        ..SECRET
    },
    RuleSpec {
        id: "tailscale_key",
        description: "Tailscale auth/API/OAuth key (tskey-…)",
        keywords: &["tskey-"],
        pattern: token!(r"tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{10,20}-[A-Za-z0-9]{20,40}"),
        expected_hosts: &["api.tailscale.com", "login.tailscale.com", "controlplane.tailscale.com"],
        examples: &["TS_AUTHKEY=tskey-auth-«alnum:12»-«alnum:33»", "tailscale up --authkey tskey-client-«alnum:12»-«alnum:33»"],
        counter_examples: &["tskey-auth-XXXX"],
        ..SECRET
    },
    RuleSpec {
        id: "supabase_token",
        description: "Supabase personal access token (sbp_) or secret API key (sb_secret_)",
        keywords: &["sbp_", "sb_secret_"],
        pattern: token!(r"sbp_[a-f0-9]{40}|sb_secret_[A-Za-z0-9_-]{30,50}", open),
        expected_hosts: &["api.supabase.com", ".supabase.co"],
        examples: &["SUPABASE_ACCESS_TOKEN=sbp_«hex:40»", "apikey: sb_secret_«b64url:31»"],
        counter_examples: &["sbp_«hex:8»"],
        ..SECRET
    },
    RuleSpec {
        id: "render_api_key",
        description: "Render API key (rnd_…)",
        keywords: &["rnd_"],
        pattern: token!(r"rnd_[A-Za-z0-9]{32}"),
        min_entropy: 3.0,
        expected_hosts: &["api.render.com"],
        examples: &["Authorization: Bearer rnd_«alnum:32»", "RENDER_API_KEY=rnd_«alnum:32»"],
        counter_examples: &["rnd_seed_value", "brnd_«alnum:32»"],
        ..SECRET
    },
    RuleSpec {
        id: "pulumi_access_token",
        description: "Pulumi access token (pul-…)",
        keywords: &["pul-"],
        pattern: token!(r"pul-[a-f0-9]{40}"),
        expected_hosts: &["api.pulumi.com"],
        examples: &["PULUMI_ACCESS_TOKEN=pul-«hex:40»", "Authorization: token pul-«hex:40»"],
        counter_examples: &["pul-«hex:8»"],
        ..SECRET
    },
    RuleSpec {
        id: "planetscale_token",
        description: "PlanetScale service token, password or OAuth token (pscale_tkn_/pscale_pw_/pscale_oauth_)",
        keywords: &["pscale_"],
        pattern: token!(r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.=-]{32,64}", open),
        expected_hosts: &["api.planetscale.com", ".psdb.cloud"],
        examples: &["PLANETSCALE_SERVICE_TOKEN=pscale_tkn_«b64url:43»", "mysql://u:pscale_pw_«alnum:43»@aws.connect.psdb.cloud/db"],
        counter_examples: &["pscale_tkn_short"],
        ..SECRET
    },
    RuleSpec {
        id: "alibaba_access_key_id",
        description: "Alibaba Cloud AccessKey id (LTAI…)",
        keywords: &["ltai"],
        pattern: token!(r"LTAI[A-Za-z0-9]{12,20}"),
        min_entropy: 2.5,
        expected_hosts: &[".aliyuncs.com"],
        examples: &["ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI«alnum:20»", "AccessKeyId=LTAI«alnum:16»&Action=x"],
        counter_examples: &["LTAI«alnum:4»"],
        ..SECRET
    },
    RuleSpec {
        id: "onepassword_service_account_token",
        description: "1Password service account token (ops_eyJ…)",
        severity: Severity::Critical,
        keywords: &["ops_eyj"],
        pattern: token!(r"ops_eyJ[A-Za-z0-9+/_-]{250,1500}={0,2}"; r""),
        examples: &["OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ«b64:400»", r#"{"token":"ops_eyJ«b64url:300»"}"#],
        counter_examples: &["ops_eyJhbGciOi"],
        ..SECRET
    },
    RuleSpec {
        id: "onepassword_secret_key",
        description: "1Password account Secret Key (A3-XXXXXX-…)",
        severity: Severity::Critical,
        keywords: &["a3-"],
        pattern: token!(r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"),
        examples: &["Secret Key: A3-«upalnum:6»-«upalnum:6»-«upalnum:5»-«upalnum:5»-«upalnum:5»-«upalnum:5»", "OP_SECRET_KEY=A3-«upalnum:6»-«upalnum:11»-«upalnum:5»-«upalnum:5»-«upalnum:5»"],
        counter_examples: &["A3-PAPER-SIZE"],
        ..SECRET
    },
];
