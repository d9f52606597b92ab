//! Source forges and the CI/CD, code-quality and artifact tools around them
//! (GitHub, GitLab, Bitbucket, Atlassian, Buildkite, CircleCI, SonarQube,
//! JFrog, Octopus, Sourcegraph).

use super::SECRET;
use crate::core::finding::Severity;
use crate::core::rules::spec::RuleSpec;

pub(super) const RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "github_pat_classic",
        description: "GitHub classic personal access token (ghp_…)",
        severity: Severity::Critical,
        keywords: &["ghp_"],
        pattern: token!(r"ghp_[A-Za-z0-9]{36}"),
        expected_hosts: &["api.github.com", "github.com", ".githubusercontent.com", "uploads.github.com"],
        examples: &[
            "Authorization: token ghp_«alnum:36»",
            "https://ghp_«alnum:36»@github.com/org/repo.git",
            "https://paste.example/?t=ghp_«alnum:36»%0A",
        ],
        counter_examples: &["ghp_«alnum:20»", "xghp_«alnum:36»", "ghp_«alnum:40»"],
        ..SECRET
    },
    RuleSpec {
        id: "github_oauth_token",
        description: "GitHub OAuth access token (gho_…)",
        keywords: &["gho_"],
        pattern: token!(r"gho_[A-Za-z0-9]{36}"),
        expected_hosts: &["api.github.com", "github.com", ".githubusercontent.com"],
        examples: &["Authorization: Bearer gho_«alnum:36»", r#"{"oauth_token":"gho_«alnum:36»"}"#],
        counter_examples: &["gho_«alnum:12»"],
        ..SECRET
    },
    RuleSpec {
        id: "github_app_token",
        description: "GitHub App user-to-server (ghu_) or installation (ghs_) token",
        keywords: &["ghu_", "ghs_"],
        pattern: token!(r"gh[us]_[A-Za-z0-9]{36}"),
        expected_hosts: &["api.github.com", "github.com", ".githubusercontent.com"],
        examples: &["https://x-access-token:ghs_«alnum:36»@github.com/o/r", "GITHUB_TOKEN=ghu_«alnum:36»"],
        counter_examples: &["ghs_«alnum:10»"],
        ..SECRET
    },
    RuleSpec {
        id: "github_refresh_token",
        description: "GitHub App refresh token (ghr_…)",
        keywords: &["ghr_"],
        pattern: token!(r"ghr_[A-Za-z0-9]{36,76}"),
        expected_hosts: &["github.com", "api.github.com"],
        examples: &["refresh_token=ghr_«alnum:76»&grant_type=refresh_token", r#"{"refresh_token":"ghr_«alnum:36»"}"#],
        counter_examples: &["ghr_«alnum:8»"],
        ..SECRET
    },
    RuleSpec {
        id: "github_fine_grained_pat",
        description: "GitHub fine-grained personal access token (github_pat_…)",
        severity: Severity::Critical,
        keywords: &["github_pat_"],
        pattern: token!(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}"),
        expected_hosts: &["api.github.com", "github.com", ".githubusercontent.com"],
        examples: &["Authorization: Bearer github_pat_«alnum:22»_«alnum:59»", "GH_TOKEN=github_pat_«alnum:22»_«alnum:59»\n"],
        counter_examples: &["github_pat_«alnum:10»", "github_pat_ is the prefix"],
        ..SECRET
    },
    RuleSpec {
        id: "gitlab_pat",
        description: "GitLab personal/project/group access token (glpat-…)",
        severity: Severity::Critical,
        keywords: &["glpat-"],
        pattern: token!(r"glpat-[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{2}\.[0-9a-z]{9})?", open),
        expected_hosts: &["gitlab.com", ".gitlab.com"],
        examples: &["PRIVATE-TOKEN: glpat-«b64url:20»", "https://oauth2:glpat-«alnum:20»@gitlab.com/g/p.git", r#"{"token":"glpat-«b64url:36».01.«loalnum:9»"}"#],
        counter_examples: &["glpat-xxxx", "glpat- prefix"],
        ..SECRET
    },
    RuleSpec {
        id: "gitlab_runner_token",
        description: "GitLab runner authentication (glrt-) or registration (GR1348941) token",
        keywords: &["glrt-", "gr1348941"],
        pattern: token!(r"(?:glrt-|GR1348941)[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{2}\.[0-9a-z]{9})?", open),
        expected_hosts: &["gitlab.com", ".gitlab.com"],
        examples: &["token = \"glrt-«b64url:20»\"", "--registration-token GR1348941«alnum:20»"],
        counter_examples: &["glrt-short"],
        ..SECRET
    },
    RuleSpec {
        id: "gitlab_token",
        description: "Other GitLab tokens: deploy (gldt-), CI job (glcbt-), trigger (glptt-), feed (glft-), agent, SCIM, OAuth app secret, mail, feature-flag",
        keywords: &["gldt-", "glcbt-", "glptt-", "glft-", "glagent-", "glsoat-", "gloas-", "glimt-", "glffct-"],
        pattern: token!(r"(?:gldt|glcbt|glptt|glft|glagent|glsoat|gloas|glimt|glffct)-[A-Za-z0-9_-]{20,300}", open),
        expected_hosts: &["gitlab.com", ".gitlab.com"],
        examples: &["GITLAB_DEPLOY_TOKEN=gldt-«b64url:20»", "token=glptt-«hex:40»&ref=main"],
        counter_examples: &["gldt-«alnum:5»"],
        ..SECRET
    },
    RuleSpec {
        id: "bitbucket_app_password",
        description: "Bitbucket app password / access token (ATBB…, ATCTT3…)",
        keywords: &["atbb", "atctt3"],
        pattern: token!(r"ATBB[A-Za-z0-9]{32}|ATCTT3[A-Za-z0-9_=-]{150,250}", open),
        expected_hosts: &["api.bitbucket.org", "bitbucket.org"],
        examples: &["https://user:ATBB«alnum:32»@bitbucket.org/x/y.git", "BITBUCKET_TOKEN=ATCTT3«b64url:180»"],
        counter_examples: &["ATBB«alnum:10»"],
        ..SECRET
    },
    RuleSpec {
        id: "atlassian_api_token",
        description: "Atlassian (Jira/Confluence) API token (ATATT3…)",
        keywords: &["atatt3"],
        pattern: token!(r"ATATT3[A-Za-z0-9_=-]{150,250}", open),
        expected_hosts: &[".atlassian.net", "api.atlassian.com"],
        examples: &["JIRA_API_TOKEN=ATATT3«b64url:186»", r#"{"token":"ATATT3«b64url:180»=«upalnum:8»"}"#],
        counter_examples: &["ATATT3«alnum:20»"],
        ..SECRET
    },
    RuleSpec {
        id: "buildkite_token",
        description: "Buildkite agent/user API token (bkua_/bkagent_)",
        keywords: &["bkua_", "bkagent_"],
        pattern: token!(r"(?:bkua|bkagent)_[a-f0-9]{40}"),
        expected_hosts: &["api.buildkite.com", "agent.buildkite.com"],
        examples: &["Authorization: Bearer bkua_«hex:40»", "BUILDKITE_AGENT_TOKEN=bkagent_«hex:40»"],
        counter_examples: &["bkua_«hex:10»"],
        ..SECRET
    },
    RuleSpec {
        id: "circleci_token",
        description: "CircleCI personal API token (CCIPAT_…)",
        keywords: &["ccipat_"],
        pattern: token!(r"CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}"),
        expected_hosts: &["circleci.com", ".circleci.com"],
        examples: &["Circle-Token: CCIPAT_«alnum:22»_«hex:40»", "CIRCLE_TOKEN=CCIPAT_«alnum:22»_«hex:40»"],
        counter_examples: &["CCIPAT_«alnum:5»"],
        ..SECRET
    },
    RuleSpec {
        id: "sonarqube_token",
        description: "SonarQube/SonarCloud token (squ_/sqp_/sqa_)",
        keywords: &["squ_", "sqp_", "sqa_"],
        pattern: token!(r"sq[upa]_[a-f0-9]{40}"),
        examples: &["SONAR_TOKEN=squ_«hex:40»", "-Dsonar.token=sqp_«hex:40» "],
        counter_examples: &["squ_«hex:8»"],
        ..SECRET
    },
    RuleSpec {
        id: "jfrog_api_key",
        description: "JFrog Artifactory API key (AKCp…) or identity token (cmVmdGtu…)",
        keywords: &["akcp", "cmvmdgtu"],
        pattern: token!(r"AKCp[A-Za-z0-9]{69}|cmVmdGtuOjAxOj[A-Za-z0-9]{50}"),
        examples: &["X-JFrog-Art-Api: AKCp«alnum:69»", "password=cmVmdGtuOjAxOj«alnum:50»&x=1"],
        counter_examples: &["AKCp«alnum:10»"],
        ..SECRET
    },
    RuleSpec {
        id: "octopus_deploy_api_key",
        description: "Octopus Deploy API key (API-…)",
        keywords: &["api-"],
        pattern: token!(r"API-[A-Z0-9]{26}"),
        min_entropy: 3.0,
        examples: &["X-Octopus-ApiKey: API-«upalnum:26»", "OCTOPUS_API_KEY=API-«upalnum:26»"],
        counter_examples: &["API-VERSION-2024-01-01-PREVIEW", "API-«upalnum:10»"],
        ..SECRET
    },
    RuleSpec {
        id: "sourcegraph_token",
        description: "Sourcegraph access token (sgp_…)",
        keywords: &["sgp_"],
        pattern: token!(r"sgp_(?:[a-f0-9]{16}_|local_)?[a-f0-9]{40}"),
        examples: &["Authorization: token sgp_«hex:16»_«hex:40»", "SRC_ACCESS_TOKEN=sgp_«hex:40»"],
        counter_examples: &["sgp_«hex:8»"],
        ..SECRET
    },
];
