//! Hosted business and developer services that are not a cloud platform,
//! forge, chat, payments or registry (Linear, Notion, Airtable, Figma,
//! Grafana, Datadog, Sentry, …), plus a tail of later additions kept here for
//! rule order (Azure DevOps/SAS, Teams and Zapier webhooks, JWK).

use super::SECRET;
use crate::core::finding::Severity;
use crate::core::rules::spec::RuleSpec;

pub(super) const RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "linear_api_key",
        description: "Linear personal API key (lin_api_…)",
        keywords: &["lin_api_"],
        pattern: token!(r"lin_api_[A-Za-z0-9]{40}"),
        expected_hosts: &["api.linear.app"],
        examples: &["Authorization: lin_api_«alnum:40»", "LINEAR_API_KEY=lin_api_«alnum:40»"],
        counter_examples: &["lin_api_«alnum:10»"],
        ..SECRET
    },
    RuleSpec {
        id: "notion_token",
        description: "Notion integration token (ntn_… or legacy secret_…)",
        keywords: &["ntn_", "secret_"],
        pattern: token!(r"ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43}"),
        min_entropy: 3.5,
        expected_hosts: &["api.notion.com"],
        examples: &["Authorization: Bearer ntn_«digit:11»«alnum:35»", "NOTION_TOKEN=secret_«alnum:43»"],
        counter_examples: &["secret_key_base", "secret_«alnum:20»"],
        ..SECRET
    },
    RuleSpec {
        id: "airtable_pat",
        description: "Airtable personal access token (pat….…)",
        keywords: &["pat"],
        pattern: token!(r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}"),
        expected_hosts: &["api.airtable.com"],
        examples: &["Authorization: Bearer pat«alnum:14».«hex:64»", "AIRTABLE_TOKEN=pat«alnum:14».«hex:64»"],
        counter_examples: &["path.to.file"],
        ..SECRET
    },
    RuleSpec {
        id: "figma_pat",
        description: "Figma personal access token (figd_…)",
        keywords: &["figd_"],
        pattern: token!(r"figd_[A-Za-z0-9_-]{40}", open),
        expected_hosts: &["api.figma.com"],
        examples: &["X-Figma-Token: figd_«b64url:40»", "FIGMA_TOKEN=figd_«alnum:40»"],
        counter_examples: &["figd_abc"],
        ..SECRET
    },
    RuleSpec {
        id: "postman_api_key",
        description: "Postman API key (PMAK-…)",
        keywords: &["pmak-"],
        pattern: token!(r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}"),
        expected_hosts: &["api.getpostman.com", "api.postman.com"],
        examples: &["X-Api-Key: PMAK-«hex:24»-«hex:34»", "POSTMAN_API_KEY=PMAK-«hex:24»-«hex:34»"],
        counter_examples: &["PMAK-«hex:8»"],
        ..SECRET
    },
    RuleSpec {
        id: "grafana_token",
        description: "Grafana service-account token (glsa_), Grafana Cloud token (glc_) or legacy API key (eyJrIjoi…)",
        keywords: &["glsa_", "glc_", "eyjrijoi"],
        pattern: token!(r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,2}|eyJrIjoi[A-Za-z0-9]{70,400}={0,2}"; r""),
        expected_hosts: &[".grafana.net", ".grafana.com"],
        examples: &["Authorization: Bearer glsa_«alnum:32»_«hex:8»", "GRAFANA_CLOUD_TOKEN=glc_«b64:120»==", "apiKey=eyJrIjoi«alnum:80»="],
        counter_examples: &["glsa_short", "glc_x"],
        ..SECRET
    },
    RuleSpec {
        id: "newrelic_key",
        description: "New Relic user API key (NRAK-) or insert/ingest key (NRII-/NRJS-)",
        keywords: &["nrak-", "nrii-", "nrjs-"],
        pattern: token!(r"NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9_-]{32}|NRJS-[a-f0-9]{19}", open),
        expected_hosts: &[".newrelic.com", ".nr-data.net"],
        examples: &["Api-Key: NRAK-«upalnum:27»", "NEW_RELIC_INSERT_KEY=NRII-«b64url:32»"],
        counter_examples: &["NRAK-SHORT"],
        ..SECRET
    },
    RuleSpec {
        id: "datadog_api_key",
        description: "Datadog API (32 hex) or application (40 hex) key in a datadog/DD_-named assignment",
        keywords: &["datadog", "dd_api_key", "dd_app_key", "dd-api-key", "dd-application-key"],
        pattern: named!(r#"(?i:datadog[A-Za-z0-9_.-]{0,20}|dd_api_key|dd_app_key|dd-api-key|dd-application-key)["']?\s{0,5}[:=]\s{0,5}["']?(?P<secret>[a-f0-9]{40}|[a-f0-9]{32})(?-u:\b)"#),
        min_entropy: 2.5,
        expected_hosts: &[".datadoghq.com", ".datadoghq.eu", ".ddog-gov.com"],
        examples: &["DD_API_KEY=«hex:32»", "DD-APPLICATION-KEY: «hex:40»"],
        counter_examples: &["DD_API_KEY=00000000000000000000000000000000", "DATADOG_SITE=datadoghq.eu"],
        ..SECRET
    },
    RuleSpec {
        id: "dynatrace_api_token",
        description: "Dynatrace API token (dt0c01.…)",
        keywords: &["dt0c01."],
        pattern: token!(r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}"),
        expected_hosts: &[".live.dynatrace.com"],
        examples: &["Authorization: Api-Token dt0c01.«upalnum:24».«upalnum:64»", "DT_API_TOKEN=dt0c01.«upalnum:24».«upalnum:64»"],
        counter_examples: &["dt0c01.ABC"],
        ..SECRET
    },
    RuleSpec {
        id: "sentry_token",
        description: "Sentry organisation auth token (sntrys_) or user token (sntryu_)",
        keywords: &["sntrys_", "sntryu_"],
        pattern: token!(r"sntrys_eyJ[A-Za-z0-9+/_=-]{60,400}|sntryu_[a-f0-9]{64}", open),
        expected_hosts: &["sentry.io", ".sentry.io"],
        examples: &["SENTRY_AUTH_TOKEN=sntrys_eyJ«b64url:120»", "Authorization: Bearer sntryu_«hex:64»"],
        counter_examples: &["sntryu_«hex:8»"],
        ..SECRET
    },
    RuleSpec {
        id: "contentful_token",
        description: "Contentful personal access token (CFPAT-…)",
        keywords: &["cfpat-"],
        pattern: token!(r"CFPAT-[A-Za-z0-9_-]{43}", open),
        expected_hosts: &["api.contentful.com"],
        examples: &["Authorization: Bearer CFPAT-«b64url:43»", "CONTENTFUL_MANAGEMENT_TOKEN=CFPAT-«alnum:43»"],
        counter_examples: &["CFPAT-short"],
        ..SECRET
    },
    RuleSpec {
        id: "typeform_token",
        description: "Typeform personal access token (tfp_…)",
        keywords: &["tfp_"],
        pattern: token!(r"tfp_[A-Za-z0-9_.=-]{59}", open),
        expected_hosts: &["api.typeform.com"],
        examples: &["Authorization: Bearer tfp_«b64url:59»", "TYPEFORM_TOKEN=tfp_«alnum:59»"],
        counter_examples: &["tfp_short"],
        ..SECRET
    },
    RuleSpec {
        id: "readme_api_key",
        description: "ReadMe API key (rdme_…)",
        keywords: &["rdme_"],
        pattern: token!(r"rdme_[a-z0-9]{70}"),
        expected_hosts: &["dash.readme.com"],
        examples: &["README_API_KEY=rdme_«loalnum:70»", "-u rdme_«loalnum:70»:"],
        counter_examples: &["rdme_short"],
        ..SECRET
    },
    RuleSpec {
        id: "prefect_api_key",
        description: "Prefect Cloud API key (pnu_…)",
        keywords: &["pnu_"],
        pattern: token!(r"pnu_[A-Za-z0-9]{36}"),
        expected_hosts: &["api.prefect.cloud"],
        examples: &["PREFECT_API_KEY=pnu_«alnum:36»", "Authorization: Bearer pnu_«alnum:36»"],
        counter_examples: &["pnu_short"],
        ..SECRET
    },
    RuleSpec {
        id: "infracost_api_key",
        description: "Infracost API key (ico-…)",
        keywords: &["ico-"],
        pattern: token!(nodot r"ico-[A-Za-z0-9]{32}"),
        min_entropy: 3.0,
        expected_hosts: &["pricing.api.infracost.io", "dashboard.api.infracost.io"],
        examples: &["INFRACOST_API_KEY=ico-«alnum:32»", "X-Api-Key: ico-«alnum:32»"],
        counter_examples: &["favico-«alnum:32»", "ico-small"],
        ..SECRET
    },
    RuleSpec {
        id: "mapbox_secret_token",
        description: "Mapbox secret access token (sk.eyJ…)",
        keywords: &["sk.eyj"],
        pattern: token!(r"sk\.eyJ[A-Za-z0-9_-]{20,200}\.[A-Za-z0-9_-]{20,100}", open),
        expected_hosts: &["api.mapbox.com"],
        examples: &["MAPBOX_SECRET=sk.eyJ1Ijoi«b64url:40».«b64url:22»", "https://api.example.com/?access_token=sk.eyJ«b64url:60».«b64url:22»&x"],
        counter_examples: &["pk.eyJ1Ijoi«b64url:40».«b64url:22»"],
        ..SECRET
    },
    RuleSpec {
        id: "twitter_bearer_token",
        description: "Twitter/X app-only bearer token (AAAAAAAAAAAAAAAAAAAAA…)",
        keywords: &["aaaaaaaaaaaaaaaaaaaaa"],
        pattern: token!(r"A{22}[A-Za-z0-9%]{80,120}"),
        expected_hosts: &["api.twitter.com", "api.x.com"],
        examples: &["Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAA«alnum:90»", "TWITTER_BEARER_TOKEN=AAAAAAAAAAAAAAAAAAAAAA«alnum:100»"],
        counter_examples: &["AAAAAAAAAAAAAAAAAAAAAAAA"],
        ..SECRET
    },
    RuleSpec {
        id: "adafruit_io_key",
        description: "Adafruit IO key (aio_…)",
        keywords: &["aio_"],
        pattern: token!(r"aio_[A-Za-z0-9]{28}"),
        min_entropy: 3.0,
        expected_hosts: &["io.adafruit.com"],
        examples: &["X-AIO-Key: aio_«alnum:28»", "ADAFRUIT_IO_KEY=aio_«alnum:28»"],
        counter_examples: &["aio_http_client_session", "aiohttp"],
        ..SECRET
    },
    RuleSpec {
        id: "frameio_token",
        description: "Frame.io developer token (fio-u-…)",
        keywords: &["fio-u-"],
        pattern: token!(r"fio-u-[A-Za-z0-9_=-]{64}", open),
        expected_hosts: &["api.frame.io"],
        examples: &["Authorization: Bearer fio-u-«b64url:64»", "FRAMEIO_TOKEN=fio-u-«alnum:64»"],
        counter_examples: &["fio-u-short"],
        ..SECRET
    },
    RuleSpec {
        id: "dropbox_token",
        description: "Dropbox short-lived access token (sl.…)",
        keywords: &["sl."],
        pattern: token!(nodot r"sl\.(?:u\.)?[A-Za-z0-9_-]{130,1400}", open),
        min_entropy: 3.5,
        expected_hosts: &["api.dropboxapi.com", "content.dropboxapi.com", "notify.dropboxapi.com"],
        examples: &["Authorization: Bearer sl.«b64url:140»", r#"{"access_token": "sl.u.«b64url:300»"}"#],
        counter_examples: &["sl.short", "file.sl.«b64url:140»"],
        ..SECRET
    },
    RuleSpec {
        id: "cloudinary_url",
        description: "Cloudinary URL carrying the API secret (cloudinary://key:secret@cloud)",
        keywords: &["cloudinary://"],
        pattern: word!(r"cloudinary://[0-9]{10,20}:(?P<secret>[A-Za-z0-9_-]{20,40})@[A-Za-z0-9_-]{1,64}"),
        expected_hosts: &["api.cloudinary.com"],
        examples: &["CLOUDINARY_URL=cloudinary://«digit:15»:«b64url:27»@demo-cloud", r#"{"url":"cloudinary://«digit:15»:«alnum:27»@acme"}"#],
        counter_examples: &["CLOUDINARY_URL=cloudinary://<api_key>:<api_secret>@<cloud_name>"],
        ..SECRET
    },
    RuleSpec {
        id: "age_secret_key",
        description: "age encryption secret key (AGE-SECRET-KEY-1…)",
        severity: Severity::Critical,
        keywords: &["age-secret-key-1"],
        pattern: token!(r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
        examples: &["# created: 2025\nAGE-SECRET-KEY-1«bech32u:58»", "SOPS_AGE_KEY=AGE-SECRET-KEY-1«bech32u:58»"],
        counter_examples: &["AGE-SECRET-KEY-1 prefix"],
        ..SECRET
    },
    RuleSpec {
        id: "adobe_client_secret",
        description: "Adobe developer client secret (p8e-…)",
        keywords: &["p8e-"],
        pattern: token!(r"p8e-[A-Za-z0-9]{32}"),
        min_entropy: 3.0,
        expected_hosts: &["ims-na1.adobelogin.com"],
        examples: &["ADOBE_CLIENT_SECRET=p8e-«alnum:32»", "client_secret=p8e-«alnum:32»&grant_type=client_credentials"],
        counter_examples: &["p8e-short"],
        ..SECRET
    },
    RuleSpec {
        id: "defined_networking_api_key",
        description: "Defined Networking (managed Nebula) API key (dnkey-…)",
        keywords: &["dnkey-"],
        pattern: token!(r"dnkey-[a-z0-9=_-]{26}-[a-z0-9=_-]{52}", open),
        expected_hosts: &["api.defined.net"],
        examples: &["Authorization: Bearer dnkey-«loalnum:26»-«loalnum:52»", "DN_API_KEY=dnkey-«loalnum:26»-«loalnum:52»"],
        counter_examples: &["dnkey-abc-def"],
        ..SECRET
    },
    RuleSpec {
        id: "facebook_access_token",
        description: "Facebook/Meta Graph API access token (EAA…)",
        severity: Severity::Medium,
        keywords: &["eaa"],
        pattern: token!(r"EAA[A-Za-z0-9]{100,255}"),
        min_entropy: 3.5,
        expected_hosts: &["graph.facebook.com", ".facebook.com", "graph.instagram.com"],
        examples: &["access_token=EAAG«alnum:150»&fields=id", "Authorization: Bearer EAAB«alnum:120»"],
        counter_examples: &["EAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "EAA«alnum:20»"],
        ..SECRET
    },
    RuleSpec {
        id: "harness_pat",
        description: "Harness personal/service access token (pat.<account>.<id>.<secret>)",
        keywords: &["pat.", "sat."],
        pattern: token!(r"(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[0-9a-f]{24}\.[A-Za-z0-9]{20}"),
        expected_hosts: &["app.harness.io"],
        examples: &["x-api-key: pat.«alnum:22».«hex:24».«alnum:20»", "HARNESS_TOKEN=sat.«b64url:21»x.«hex:24».«alnum:20»"],
        counter_examples: &["pat.example.com"],
        ..SECRET
    },
    RuleSpec {
        id: "intra42_client_secret",
        description: "42 intra OAuth client secret (s-s4t2ud-/s-s4t2af-)",
        keywords: &["s-s4t2"],
        pattern: token!(r"s-s4t2(?:ud|af)-[a-f0-9]{64}"),
        expected_hosts: &["api.intra.42.fr"],
        examples: &["FT_SECRET=s-s4t2ud-«hex:64»", "client_secret=s-s4t2af-«hex:64»&grant_type=x"],
        counter_examples: &["s-s4t2ud-short"],
        ..SECRET
    },
    RuleSpec {
        id: "nuget_api_key",
        description: "NuGet.org API key (oy2…)",
        keywords: &["oy2"],
        pattern: token!(r"oy2[a-z0-9]{43}"),
        min_entropy: 3.0,
        expected_hosts: &["www.nuget.org", "api.nuget.org"],
        examples: &["X-NuGet-ApiKey: oy2«loalnum:43»", "dotnet nuget push x.nupkg --api-key oy2«loalnum:43» --source nuget.org"],
        counter_examples: &["oy2«loalnum:10»"],
        ..SECRET
    },
    RuleSpec {
        id: "openshift_user_token",
        description: "OpenShift OAuth user token (sha256~…)",
        keywords: &["sha256~"],
        pattern: token!(r"sha256~[A-Za-z0-9_-]{43}", open),
        examples: &["oc login --token=sha256~«b64url:43» --server=https://api.c.example:6443", "Authorization: Bearer sha256~«alnum:43»"],
        counter_examples: &["sha256:«hex:64»"],
        ..SECRET
    },
    RuleSpec {
        id: "scalingo_api_token",
        description: "Scalingo API token (tk-us-…)",
        keywords: &["tk-us-"],
        pattern: token!(r"tk-us-[A-Za-z0-9_-]{48}", open),
        expected_hosts: &["auth.scalingo.com", ".scalingo.com"],
        examples: &["SCALINGO_API_TOKEN=tk-us-«b64url:48»", "-u :tk-us-«alnum:48» https://x"],
        counter_examples: &["tk-us-east"],
        ..SECRET
    },
    RuleSpec {
        id: "yandex_cloud_key",
        description: "Yandex Cloud API key (AQVN…) or IAM token (t1.…)",
        keywords: &["aqvn", "t1."],
        pattern: token!(r"AQVN[A-Za-z0-9_-]{35,38}|t1\.[A-Za-z0-9_-]{50,200}={0,2}\.[A-Za-z0-9_-]{86}={0,2}", open),
        min_entropy: 3.0,
        expected_hosts: &[".api.cloud.yandex.net", ".yandexcloud.net"],
        examples: &["Authorization: Api-Key AQVN«alnum:37»", "YC_TOKEN=t1.«b64url:80».«b64url:86»"],
        counter_examples: &["AQVN«alnum:10»"],
        ..SECRET
    },
    RuleSpec {
        id: "azure_devops_pat",
        description: "Azure DevOps personal access token (84-char identifiable format with the JQQJ99…AZDO signature)",
        keywords: &["jqqj99"],
        pattern: token!(r"[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9]{0,8}AZDO[A-Za-z0-9]{4}"),
        expected_hosts: &["dev.azure.com", ".visualstudio.com", ".vssps.visualstudio.com"],
        examples: &["AZURE_DEVOPS_EXT_PAT=«alnum:52»JQQJ99«alnum:2»AZDO«alnum:4»", "https://user:«alnum:52»JQQJ99«alnum:3»AZDO«alnum:4»@dev.azure.com/org/p/_git/r"],
        counter_examples: &["JQQJ99AZDO"],
        ..SECRET
    },
    RuleSpec {
        id: "azure_sas_token",
        description: "Azure Storage shared access signature (sv=…&sig=…) granting blob/queue/file access",
        severity: Severity::Medium,
        keywords: &["sig="],
        pattern: query!("sv", r"[0-9]{4}-[0-9]{2}-[0-9]{2}[^\s\x22'<>]{0,400}?[?&;]sig=(?P<secret>[A-Za-z0-9%+/]{40,120}={0,2})"),
        expected_hosts: &[".core.windows.net"],
        examples: &["https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01T00:00:00Z&spr=https&sig=«b64:43»%3D", r#"{"sas":"?sv=2021-08-06&st=2025&se=2026&sr=c&sp=racwdl&sig=«alnum:44»"}"#],
        counter_examples: &["?sv=2022-11-02&sig=short"],
        ..SECRET
    },
    RuleSpec {
        id: "teams_webhook_url",
        description: "Microsoft Teams / Office 365 incoming webhook URL (anyone holding it can post)",
        severity: Severity::Medium,
        keywords: &["webhook.office.com"],
        pattern: word!(r"webhook\.office\.com/webhookb2/(?P<secret>[0-9a-f-]{36}@[0-9a-f-]{36}/IncomingWebhook/[0-9a-f]{32}/[0-9a-f-]{36}(?:/[A-Za-z0-9_-]{20,60})?)"),
        expected_hosts: &[".webhook.office.com"],
        examples: &["https://acme.webhook.office.com/webhookb2/«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»@«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»/IncomingWebhook/«hex:32»/«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»", r#"{"url":"https://x.webhook.office.com/webhookb2/«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»@«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»/IncomingWebhook/«hex:32»/«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»/V2«b64url:40»"}"#],
        counter_examples: &["https://acme.webhook.office.com/webhookb2/"],
        ..SECRET
    },
    RuleSpec {
        id: "zapier_webhook_url",
        description: "Zapier catch hook URL (anyone holding it can trigger the Zap)",
        severity: Severity::Medium,
        keywords: &["hooks.zapier.com"],
        pattern: word!(r"hooks\.zapier\.com/hooks/catch/(?P<secret>[0-9]{5,12}/[A-Za-z0-9]{5,12})(?-u:\b)"),
        expected_hosts: &["hooks.zapier.com"],
        examples: &["https://hooks.zapier.com/hooks/catch/«digit:8»/«loalnum:7»/", r#"{"hook":"https://hooks.zapier.com/hooks/catch/«digit:7»/«alnum:6»"}"#],
        counter_examples: &["https://hooks.zapier.com/hooks/catch/"],
        ..SECRET
    },
    RuleSpec {
        id: "jwk_private_key",
        description: "JSON Web Key with private material (kty plus the private exponent/scalar `d`)",
        severity: Severity::Critical,
        keywords: &["kty"],
        pattern: named!(r#""kty"\s{0,3}:\s{0,3}"(?:RSA|EC|OKP)"(?-u:[^{}]){0,3000}?"d"\s{0,3}:\s{0,3}"(?P<secret>[A-Za-z0-9_-]{32,1400})""#),
        examples: &[r#"{"kty":"EC","crv":"P-256","x":"«b64url:43»","y":"«b64url:43»","d":"«b64url:43»"}"#, r#"{"kty": "OKP", "crv": "Ed25519", "x": "«b64url:43»", "d": "«b64url:43»"}"#],
        counter_examples: &[r#"{"kty":"EC","crv":"P-256","x":"«b64url:43»","y":"«b64url:43»"}"#],
        ..SECRET
    },
];
