//! Amazon Web Services: access keys, secret keys, session tokens, Bedrock and
//! MWS keys.

use super::SECRET;
use crate::core::finding::Severity;
use crate::core::rules::spec::RuleSpec;

pub(super) const RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "aws_access_key_id",
        description: "AWS access key id (AKIA/ASIA/ABIA/ACCA/A3T…, 20 chars); half of an AWS credential pair",
        keywords: &["akia", "asia", "abia", "acca", "a3t"],
        pattern: token!(r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}"),
        allow: &["AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE", "ASIAI44QH8DHBEXAMPLE"],
        min_entropy: 2.5,
        expected_hosts: &[".amazonaws.com", ".amazonaws.com.cn", ".aws.amazon.com"],
        examples: &[
            "AWS_ACCESS_KEY_ID=AKIA«b32:16»",
            "https://collector.example/?id=ASIA«b32:16»&s=1",
            r#"{"AccessKeyId": "AKIA«b32:16»", "Status": "Active"}"#,
        ],
        counter_examples: &[
            "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
            "the asia-pacific region; ASIAPACIFIC",
            "XAKIA«b32:16»",
            "ASIAAAAAAAAAAAAAAAAA",
        ],
        ..SECRET
    },
    RuleSpec {
        id: "aws_secret_access_key",
        description: "AWS secret access key (40 base64 chars) in an aws_secret_access_key/SecretAccessKey assignment",
        severity: Severity::Critical,
        keywords: &["awssecret", "aws_secret", "secretaccess", "secret_access"],
        pattern: named!(r#"(?i:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key|aws_?secret)["']?\s{0,5}[:=]\s{0,5}["']?(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#),
        allow: &["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"],
        min_entropy: 3.0,
        examples: &[
            "aws_secret_access_key = «b64:40»\n",
            r#"{"SecretAccessKey": "«b64:40»", "SessionToken": "x"}"#,
            "AWS_SECRET_ACCESS_KEY=«alnum:40»&region=us-east-1",
        ],
        counter_examples: &[
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}",
            "aws_secret_access_key = «alnum:50»",
        ],
        ..SECRET
    },
    RuleSpec {
        id: "aws_session_token",
        description: "AWS temporary session token in an aws_session_token/SessionToken assignment",
        keywords: &["sessiontoken", "session_token"],
        pattern: named!(r#"(?i:aws_?session_?token|session_?token)["']?\s{0,5}[:=]\s{0,5}["']?(?P<secret>(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9/+=]{80,1200})"#),
        expected_hosts: &[".amazonaws.com"],
        examples: &[
            "aws_session_token = IQoJb3JpZ2luX2VjE«b64:200»\n",
            r#"{"SessionToken": "FwoGZXIvYXdzE«b64:180»"}"#,
        ],
        counter_examples: &[r#"{"SessionToken": "abc"}"#, "session_token=«b64:200»"],
        ..SECRET
    },
    RuleSpec {
        id: "aws_bedrock_api_key",
        description: "Amazon Bedrock long-term API key (ABSK + base64 'BedrockAPIKey-')",
        keywords: &["absk"],
        pattern: token!(r"ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{40,400}={0,2}"; r""),
        expected_hosts: &[".amazonaws.com"],
        examples: &["AWS_BEARER_TOKEN_BEDROCK=ABSKQmVkcm9ja0FQSUtleS«b64:120»", "Authorization: Bearer ABSKQmVkcm9ja0FQSUtleS«b64:100»=="],
        counter_examples: &["ABSKQmVkcm9ja0FQSUtleS"],
        ..SECRET
    },
    RuleSpec {
        id: "aws_mws_key",
        description: "Amazon Marketplace Web Service auth token (amzn.mws.<uuid>)",
        keywords: &["amzn.mws."],
        pattern: token!(r"amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
        examples: &["MWSAuthToken=amzn.mws.«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»&x=1", r#"{"mws":"amzn.mws.«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»"}"#],
        counter_examples: &["amzn.mws.example"],
        ..SECRET
    },
];
