//! Package and container registries (npm, PyPI, RubyGems, Clojars, Docker
//! Hub).

use super::SECRET;
use crate::core::finding::Severity;
use crate::core::rules::spec::RuleSpec;

pub(super) const RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "npm_access_token",
        description: "npm access token (npm_…); can publish packages",
        severity: Severity::Critical,
        keywords: &["npm_"],
        pattern: token!(r"npm_[A-Za-z0-9]{36}"),
        expected_hosts: &["registry.npmjs.org"],
        examples: &[
            "//registry.npmjs.org/:_authToken=npm_«alnum:36»",
            "Authorization: Bearer npm_«alnum:36»",
        ],
        counter_examples: &["npm_config_cache", "npm_«alnum:10»", "pnpm_«alnum:36»"],
        ..SECRET
    },
    RuleSpec {
        id: "pypi_upload_token",
        description: "PyPI / TestPyPI API token (pypi-AgEIcHlwaS5vcmc…); can publish packages",
        severity: Severity::Critical,
        keywords: &["pypi-ageichlwas5vcmc", "pypi-agendgvzdc5wexbplm9yzw"],
        pattern: token!(
            r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,1000}",
            open
        ),
        expected_hosts: &["upload.pypi.org", "test.pypi.org"],
        examples: &[
            "password = pypi-AgEIcHlwaS5vcmc«b64url:120»",
            "TWINE_PASSWORD=pypi-AgENdGVzdC5weXBpLm9yZw«b64url:90»",
        ],
        counter_examples: &["pypi-AgEIcHlwaS5vcmc", "pypi-token"],
        ..SECRET
    },
    RuleSpec {
        id: "rubygems_api_key",
        description: "RubyGems API key (rubygems_…)",
        keywords: &["rubygems_"],
        pattern: token!(r"rubygems_[a-f0-9]{48}"),
        expected_hosts: &["rubygems.org"],
        examples: &[
            "Authorization: rubygems_«hex:48»",
            "GEM_HOST_API_KEY=rubygems_«hex:48»",
        ],
        counter_examples: &["rubygems_mirror"],
        ..SECRET
    },
    RuleSpec {
        id: "clojars_token",
        description: "Clojars deploy token (CLOJARS_…)",
        keywords: &["clojars_"],
        pattern: token!(r"CLOJARS_[a-z0-9]{60}"),
        expected_hosts: &["clojars.org", "repo.clojars.org"],
        examples: &[
            "CLOJARS_PASSWORD=CLOJARS_«loalnum:60»",
            r#"{:password "CLOJARS_«loalnum:60»"}"#,
        ],
        counter_examples: &["CLOJARS_USERNAME"],
        ..SECRET
    },
    RuleSpec {
        id: "dockerhub_token",
        description: "Docker Hub personal or organisation access token (dckr_pat_/dckr_oat_)",
        keywords: &["dckr_pat_", "dckr_oat_"],
        pattern: token!(r"dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,32}", open),
        expected_hosts: &[
            "hub.docker.com",
            "auth.docker.io",
            "registry-1.docker.io",
            ".docker.io",
        ],
        examples: &[
            "docker login -u me -p dckr_pat_«b64url:26»x",
            r#"{"password":"dckr_pat_«alnum:27»"}"#,
        ],
        counter_examples: &["dckr_pat_abc"],
        ..SECRET
    },
];
