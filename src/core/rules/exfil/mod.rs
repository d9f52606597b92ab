//! EXFIL rules: credentials and sensitive paths leaving the container. They
//! run on outbound traffic only.
//!
//! One file per provider group, in the style of gitleaks. A new rule goes
//! into the file of its provider's group, next to its neighbours, with its
//! own examples and counter-examples (templates, see `template.rs`), which
//! the catalogue tests run:
//!
//! | file | what goes there |
//! |---|---|
//! | `ai.rs` | AI model providers and AI tooling: model APIs, inference hosts, LLM observability, vector stores |
//! | `aws.rs` | Amazon Web Services |
//! | `vcs.rs` | source forges and the CI/CD, code-quality and artifact tools around them |
//! | `messaging.rs` | chat, mail, SMS and their webhooks |
//! | `payments.rs` | payments, commerce and shipping |
//! | `registries.rs` | package and container registries |
//! | `cloud.rs` | cloud platforms, hosting, secrets managers, infrastructure-as-code services (AWS has its own file) |
//! | `saas.rs` | other hosted business and developer services; for now also a tail of Azure DevOps/SAS, Teams/Zapier webhooks and JWK rules, kept there for rule order |
//! | `generic.rs` | shapes of no one provider: JWTs, bearer tokens, passwords in URLs, database URLs, netrc, `secret = …` assignments |
//! | `keys.rs` | private key material (PEM, PuTTY, WhatsApp/Baileys keys) |
//! | `paths.rs` | sensitive paths: indicators that fire on intent, not mention |
//!
//! A pattern never writes its left boundary by hand: it is built by one of
//! the macros of `boundary.rs` (`token!`, `named!`, `word!`, `query!`,
//! `path_intent!`), and the catalogue tests check that every pattern starts
//! with one of their boundaries.
//!
//! Order matters: when matches of two rules of the same severity and length
//! overlap, the earlier rule is reported (see `scan.rs`). The groups are
//! concatenated in the order of `GROUPS`, provider rules before the generic
//! shapes, so a new rule's place within its file is its only order decision.

use super::spec::{RuleKind, RuleSpec};
use crate::core::finding::{Severity, ThreatType};

#[macro_use]
mod boundary;
pub use boundary::{LEFT_BOUNDARIES, PATH_INTENT_LEFT};

mod ai;
mod aws;
mod cloud;
mod generic;
mod keys;
mod messaging;
mod paths;
mod payments;
mod registries;
mod saas;
mod vcs;

/// Entropy floor (bits per byte) of every credential rule's secret unless
/// the rule sets its own; the catalogue tests check that fills of each
/// example's random runs fall below it.
pub const MIN_CREDENTIAL_ENTROPY: f32 = 2.5;

/// Defaults for a strongly-prefixed credential.
const SECRET: RuleSpec = RuleSpec {
    id: "",
    description: "",
    threat: ThreatType::Exfil,
    severity: Severity::High,
    kind: RuleKind::Secret,
    keywords: &[],
    pattern: "",
    allow: &[],
    // Rejects fills and placeholders (`xxxx`, `0000`, `aaaa`, `XXXX`): a
    // random key of 16+ characters is far above it. Password rules lower it.
    min_entropy: MIN_CREDENTIAL_ENTROPY,
    expected_hosts: &[],
    examples: &[],
    counter_examples: &[],
    walker: None,
    reject_identifiers: false,
    reject_mentions: false,
    line_judge: None,
    reject_official_installers: false,
};

/// Defaults for a path or marker that is shown in snippets.
const INDICATOR: RuleSpec = RuleSpec {
    severity: Severity::Medium,
    kind: RuleKind::Indicator,
    min_entropy: 0.0,
    ..SECRET
};

/// Placeholders people put in URLs and configs instead of a password.
const PASSWORD_PLACEHOLDERS: &[&str] = &[
    "password",
    "Password",
    "PASSWORD",
    "pass",
    "passwd",
    "pwd",
    "secret",
    "changeme",
    "example",
    "xxx",
    "xxxx",
    "xxxxx",
    "xxxxxx",
    "xxxxxxxx",
    "mypassword",
    "yourpassword",
    "your_password",
    "your-password",
    "pa55word",
    "p@ssw0rd",
    "test",
    "dummy",
    "placeholder",
    // Passwords that documentation uses as examples.
    "qwerty",
    "hunter2",
    "letmein",
    "foobar",
];

/// The groups, in rule order.
const GROUPS: &[&[RuleSpec]] = &[
    ai::RULES,
    aws::RULES,
    vcs::RULES,
    messaging::RULES,
    payments::RULES,
    registries::RULES,
    cloud::RULES,
    saas::RULES,
    generic::RULES,
    keys::RULES,
    paths::RULES,
];

const RULE_COUNT: usize = {
    let mut n = 0;
    let mut g = 0;
    while g < GROUPS.len() {
        n += GROUPS[g].len();
        g += 1;
    }
    n
};

/// The groups' rules in one array, built at compile time.
const fn concat_groups() -> [RuleSpec; RULE_COUNT] {
    let mut out = [SECRET; RULE_COUNT];
    let mut k = 0;
    let mut g = 0;
    while g < GROUPS.len() {
        let mut i = 0;
        while i < GROUPS[g].len() {
            out[k] = GROUPS[g][i];
            k += 1;
            i += 1;
        }
        g += 1;
    }
    out
}

static ALL_RULES: [RuleSpec; RULE_COUNT] = concat_groups();

/// Every EXFIL rule, in order.
pub static EXFIL_RULES: &[RuleSpec] = &ALL_RULES;
