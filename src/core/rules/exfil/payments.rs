//! Payments, commerce and shipping (Stripe, Square, Shopify, Plaid,
//! Flutterwave, Shippo, Duffel, EasyPost).

use super::SECRET;
use crate::core::finding::Severity;
use crate::core::rules::spec::RuleSpec;

pub(super) const RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "stripe_live_secret_key",
        description: "Stripe live secret key (sk_live_…); moves real money",
        severity: Severity::Critical,
        keywords: &["sk_live_"],
        pattern: token!(r"sk_live_[A-Za-z0-9]{24,247}"),
        expected_hosts: &["api.stripe.com", "files.stripe.com"],
        examples: &["Authorization: Bearer sk_live_«alnum:99»", "-u sk_live_«alnum:24»: https://x", r#"{"stripe":"sk_live_«alnum:32»"}"#],
        counter_examples: &["sk_live_xxxxxxxx", "sk_test_«alnum:24»"],
        ..SECRET
    },
    RuleSpec {
        id: "stripe_restricted_key",
        description: "Stripe live restricted key (rk_live_…)",
        keywords: &["rk_live_"],
        pattern: token!(r"rk_live_[A-Za-z0-9]{24,247}"),
        expected_hosts: &["api.stripe.com"],
        examples: &["STRIPE_KEY=rk_live_«alnum:99»", "Authorization: Bearer rk_live_«alnum:24»"],
        counter_examples: &["rk_live_abc"],
        ..SECRET
    },
    RuleSpec {
        id: "stripe_test_secret_key",
        description: "Stripe test-mode secret/restricted key (sk_test_/rk_test_); no money, but account data",
        severity: Severity::Low,
        keywords: &["sk_test_", "rk_test_"],
        pattern: token!(r"[rs]k_test_[A-Za-z0-9]{24,247}"),
        min_entropy: 3.0,
        expected_hosts: &["api.stripe.com"],
        examples: &["STRIPE_SECRET_KEY=sk_test_«alnum:99»", "Authorization: Bearer rk_test_«alnum:24»"],
        counter_examples: &["sk_test_4eC39HqLyjWDarjtT1zdp7dc_short", "sk_test_xxxxxxxxxxxxxxxxxxxxxxxx"],
        ..SECRET
    },
    RuleSpec {
        id: "stripe_webhook_secret",
        description: "Stripe/Svix webhook signing secret (whsec_…)",
        keywords: &["whsec_"],
        pattern: token!(r"whsec_[A-Za-z0-9+/]{32,88}={0,2}"; r""),
        min_entropy: 3.0,
        examples: &["STRIPE_WEBHOOK_SECRET=whsec_«alnum:32»", r#"{"secret":"whsec_«b64:43»="}"#],
        counter_examples: &["whsec_...", "whsec_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
        ..SECRET
    },
    RuleSpec {
        id: "square_access_token",
        description: "Square OAuth access token or application secret (sq0atp-/sq0csp-)",
        keywords: &["sq0atp-", "sq0csp-"],
        pattern: token!(r"sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}", open),
        expected_hosts: &["connect.squareup.com", "connect.squareupsandbox.com"],
        examples: &["Authorization: Bearer sq0atp-«b64url:22»", "SQUARE_SECRET=sq0csp-«b64url:43»"],
        counter_examples: &["sq0atp-abc"],
        ..SECRET
    },
    RuleSpec {
        id: "shopify_token",
        description: "Shopify access token, custom/private app token or shared secret (shpat_/shpca_/shppa_/shpss_)",
        keywords: &["shpat_", "shpca_", "shppa_", "shpss_"],
        pattern: token!(r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
        expected_hosts: &[".myshopify.com"],
        examples: &["X-Shopify-Access-Token: shpat_«hex:32»", "SHOPIFY_API_SECRET=shpss_«hex:32»"],
        counter_examples: &["shpat_«hex:12»"],
        ..SECRET
    },
    RuleSpec {
        id: "plaid_access_token",
        description: "Plaid access token (access-<env>-<uuid>)",
        keywords: &["access-sandbox-", "access-development-", "access-production-"],
        pattern: token!(r"access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
        expected_hosts: &["production.plaid.com", "sandbox.plaid.com", "development.plaid.com"],
        examples: &[r#"{"access_token":"access-production-«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»"}"#, "token=access-sandbox-«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»&x"],
        counter_examples: &["access-production-only"],
        ..SECRET
    },
    RuleSpec {
        id: "flutterwave_secret_key",
        description: "Flutterwave secret key (FLWSECK-…-X)",
        keywords: &["flwseck"],
        pattern: token!(r"FLWSECK(?:_TEST)?-[a-h0-9]{32}-X"),
        expected_hosts: &["api.flutterwave.com"],
        examples: &["Authorization: Bearer FLWSECK-«hex:32»-X", "FLW_SECRET=FLWSECK_TEST-«hex:32»-X"],
        counter_examples: &["FLWSECK-xxxx-X"],
        ..SECRET
    },
    RuleSpec {
        id: "shippo_api_token",
        description: "Shippo API token (shippo_live_/shippo_test_)",
        keywords: &["shippo_"],
        pattern: token!(r"shippo_(?:live|test)_[a-f0-9]{40}"),
        expected_hosts: &["api.goshippo.com"],
        examples: &["Authorization: ShippoToken shippo_live_«hex:40»", "SHIPPO=shippo_test_«hex:40»"],
        counter_examples: &["shippo_live_«hex:8»"],
        ..SECRET
    },
    RuleSpec {
        id: "duffel_api_token",
        description: "Duffel API token (duffel_live_/duffel_test_)",
        keywords: &["duffel_"],
        pattern: token!(r"duffel_(?:test|live)_[A-Za-z0-9_=-]{43}", open),
        expected_hosts: &["api.duffel.com"],
        examples: &["Authorization: Bearer duffel_live_«b64url:43»", "DUFFEL=duffel_test_«alnum:43»"],
        counter_examples: &["duffel_test_abc"],
        ..SECRET
    },
    RuleSpec {
        id: "easypost_api_key",
        description: "EasyPost API key (EZAK/EZTK…)",
        keywords: &["ezak", "eztk"],
        pattern: token!(r"EZ[AT]K[A-Za-z0-9]{54}"),
        expected_hosts: &["api.easypost.com"],
        examples: &["EASYPOST_API_KEY=EZAK«alnum:54»", "-u EZTK«alnum:54»:"],
        counter_examples: &["EZAK«alnum:10»"],
        ..SECRET
    },
];
