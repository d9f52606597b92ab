//! Shapes not tied to one provider: JWTs, bearer tokens in bodies, passwords
//! in URLs, database URLs, netrc lines and generic `secret = …` assignments.
//! They come after the provider rules.

use super::{PASSWORD_PLACEHOLDERS, SECRET};
use crate::core::finding::Severity;
use crate::core::rules::spec::RuleSpec;
use crate::core::rules::walker::Walker;

pub(super) const RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "jwt",
        description: "JSON Web Token (eyJ….eyJ….…); often a session or API bearer",
        severity: Severity::Low,
        keywords: &["eyj"],
        pattern: token!(r"eyJ[A-Za-z0-9_-]{10,1000}\.eyJ[A-Za-z0-9_-]{10,4000}\.[A-Za-z0-9_-]{10,1000}", open),
        examples: &["https://x.example/cb?id_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIi«b64url:60».«b64url:43»&state=1", r#"{"session":"eyJ«b64url:30».eyJ«b64url:80».«b64url:43»"}"#],
        counter_examples: &["eyJhbGciOiJIUzI1NiJ9 alone", "eyJ«b64url:30».notjwt.«b64url:43»"],
        walker: Some(Walker::Jwt),
        ..SECRET
    },
    RuleSpec {
        id: "bearer_token_in_body",
        description: "Quoted Authorization: Bearer value inside a body (headers copied into a payload); header values themselves are normal traffic",
        severity: Severity::Low,
        keywords: &["bearer"],
        pattern: named!(r#"["'](?i:authorization)["']\s{0,3}[:=]\s{0,3}["'](?i:bearer)\s{1,3}(?P<secret>[A-Za-z0-9._~+/-]{20,2000}={0,2})["']"#),
        min_entropy: 3.5,
        examples: &[
            r#"{"headers":{"Authorization":"Bearer «b64url:40»"}}"#,
            r#"fetch(u, {headers: {'authorization': 'bearer «alnum:32»'}})"#,
        ],
        counter_examples: &[
            "Authorization: Bearer «alnum:40»",
            r#"{"Authorization": "Bearer ${TOKEN}"}"#,
            r#"{"Authorization": "Bearer xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#,
        ],
        ..SECRET
    },
    RuleSpec {
        id: "url_basic_auth",
        description: "Credentials embedded in an http(s)/ftp URL (scheme://user:password@host)",
        keywords: &["://"],
        pattern: word!(r#"(?i:https?|ftps?|sftp|git\+https|ssh)://[^\s:/@"'<>]{1,64}:(?P<secret>[^\s:/@"'<>$*{}]{3,128})@[A-Za-z0-9._-]{1,253}"#),
        allow: PASSWORD_PLACEHOLDERS,
        min_entropy: 2.5,
        severity: Severity::Medium,
        examples: &["https://deploy:«alnum:20»@git.example.com/repo.git", r#"{"proxy":"http://u:«alnum:16»@proxy.example:3128"}"#],
        counter_examples: &["https://user:password@example.com/", "https://${USER}:${PASS}@host", "mailto:a@b.c and https://example.com/a@b"],
        ..SECRET
    },
    RuleSpec {
        id: "database_url_postgres",
        description: "PostgreSQL connection URL with a password",
        keywords: &["postgres"],
        pattern: word!(r#"(?i:postgres(?:ql)?(?:\+[a-z0-9]{1,16})?)://[^\s:/@"'<>]{0,64}:(?P<secret>[^\s:/@"'<>$*{}]{3,128})@[A-Za-z0-9._\[\]:-]{1,253}"#),
        allow: PASSWORD_PLACEHOLDERS,
        min_entropy: 2.5,
        examples: &["DATABASE_URL=postgres://app:«alnum:24»@db.internal:5432/app", r#"{"dsn":"postgresql+asyncpg://u:«alnum:18»@10.0.0.5/db"}"#],
        counter_examples: &["postgres://user:password@localhost/db", "postgres://localhost/db"],
        ..SECRET
    },
    RuleSpec {
        id: "database_url_mysql",
        description: "MySQL/MariaDB connection URL with a password",
        keywords: &["mysql", "mariadb"],
        pattern: word!(r#"(?i:mysql(?:x)?|mariadb)(?:\+[a-z0-9]{1,16})?://[^\s:/@"'<>]{0,64}:(?P<secret>[^\s:/@"'<>$*{}]{3,128})@[A-Za-z0-9._()\[\]:-]{1,253}"#),
        allow: PASSWORD_PLACEHOLDERS,
        min_entropy: 2.5,
        examples: &["DATABASE_URL=mysql://root:«alnum:20»@127.0.0.1:3306/db", "mysql+pymysql://svc:«alnum:20»@db.example.com/x"],
        counter_examples: &["mysql://root:password@localhost/db"],
        ..SECRET
    },
    RuleSpec {
        id: "database_url_mongodb",
        description: "MongoDB connection URL (mongodb:// or mongodb+srv://) with a password",
        keywords: &["mongodb://", "mongodb+srv://"],
        pattern: word!(r#"(?i:mongodb(?:\+srv)?)://[^\s:/@"'<>]{1,64}:(?P<secret>[^\s:/@"'<>$*{}]{3,128})@[A-Za-z0-9._,:-]{1,253}"#),
        allow: PASSWORD_PLACEHOLDERS,
        min_entropy: 2.5,
        examples: &["MONGODB_URI=mongodb+srv://app:«alnum:20»@cluster0.ab1cd.mongodb.net/?retryWrites=true", r#"{"uri":"mongodb://admin:«alnum:16»@m1:27017,m2:27017/db"}"#],
        counter_examples: &["mongodb+srv://<username>:<password>@cluster0.mongodb.net/", "mongodb://localhost:27017"],
        ..SECRET
    },
    RuleSpec {
        id: "database_url_redis",
        description: "Redis connection URL (redis:// or rediss://) with a password",
        keywords: &["redis://", "rediss://"],
        pattern: word!(r#"(?i:rediss?)://[^\s:/@"'<>]{0,64}:(?P<secret>[^\s:/@"'<>$*{}]{3,128})@[A-Za-z0-9._-]{1,253}"#),
        allow: PASSWORD_PLACEHOLDERS,
        min_entropy: 2.5,
        examples: &["REDIS_URL=redis://:«alnum:32»@cache.internal:6379/0", "rediss://default:«alnum:32»@x.upstash.io:6379"],
        counter_examples: &["redis://localhost:6379/0", "redis://:password@localhost"],
        ..SECRET
    },
    RuleSpec {
        id: "database_url_other",
        description: "AMQP/SQL Server/ClickHouse/CouchDB/Neo4j URL with a password",
        keywords: &["amqp", "mssql", "sqlserver", "clickhouse", "couchdb", "neo4j"],
        pattern: word!(r#"(?i:amqps?|mssql|sqlserver|clickhouse|couchdbs?|neo4j(?:\+s)?)://[^\s:/@"'<>]{1,64}:(?P<secret>[^\s:/@"'<>$*{}]{3,128})@[A-Za-z0-9._-]{1,253}"#),
        allow: PASSWORD_PLACEHOLDERS,
        min_entropy: 2.5,
        examples: &["AMQP_URL=amqps://app:«alnum:20»@b-1.mq.example.com:5671", "neo4j+s://neo4j:«alnum:20»@abc.databases.neo4j.io"],
        counter_examples: &["amqp://guest:guest@localhost:5672"],
        ..SECRET
    },
    RuleSpec {
        id: "netrc_credentials",
        description: "netrc entry with a password (machine … login … password …)",
        keywords: &["password"],
        pattern: word!(r"machine\s{1,5}[A-Za-z0-9._-]{1,253}\s{1,5}login\s{1,5}[^\s]{1,128}\s{1,5}password\s{1,5}(?P<secret>[^\s]{3,256})"),
        allow: PASSWORD_PLACEHOLDERS,
        min_entropy: 2.5,
        examples: &["machine api.example.com login bot password «alnum:24»\n", "machine github.com\n  login me\n  password «alnum:30»"],
        counter_examples: &["machine example.com login user password password"],
        ..SECRET
    },
    RuleSpec {
        id: "docker_config_auth",
        description: "Registry credentials of a Docker/OCI config.json (\"auths\": {\"registry\": {\"auth\": base64 of user:password}})",
        keywords: &["\"auths\""],
        pattern: named!(r#""auths"\s{0,3}:\s{0,3}\{\s{0,3}"[^"\n]{1,200}"\s{0,3}:\s{0,3}\{[^{}]{0,200}?"auth"\s{0,3}:\s{0,3}"(?P<secret>[A-Za-z0-9+/]{12,512}={0,2})""#),
        allow: &[],
        min_entropy: 3.0,
        examples: &[
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": "«b64:44»"}}}"#,
            r#"{"auths":{"ghcr.io":{"email":"me@example.com","auth":"«b64:60»"}}}"#,
        ],
        counter_examples: &[
            r#"{"auths": {"ghcr.io": {}}, "credsStore": "desktop"}"#,
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": ""}}}"#,
        ],
        ..SECRET
    },
    RuleSpec {
        id: "generic_secret_assignment",
        description: "High-entropy value assigned to a secret-named key (api_key, api_token, client_secret, access_token, password…)",
        severity: Severity::Low,
        keywords: &["apikey", "api_key", "apitoken", "api_token", "secretkey", "secret_key", "clientsecret", "client_secret", "accesstoken", "access_token", "authtoken", "auth_token", "privatekey", "private_key", "passw"],
        pattern: named!(line r#"(?i:(?:api_?key|apikey|api_?token|secret_?key|client_?secret|access_?token|auth_?token|private_?key|password|passwd)[a-z0-9_]{0,10})["']?\s{0,3}(?:=|:|:=|=>)\s{0,3}["']?(?P<secret>[A-Za-z0-9_/+=~-]{20,128})(?:["'\s,;&}]|$)"#),
        allow: &[],
        min_entropy: 3.5,
        examples: &["MY_SERVICE_API_KEY=«alnum:32»\n", "OKTA_API_TOKEN=00«b64url:40»\n", r#"{"client_secret": "«b64url:40»"}"#, "password=«alnum:32»&user=bob"],
        counter_examples: &[
            r#"{"max_tokens": 1024, "next_page_token": "«b64url:40»"}"#,
            "password=aaaaaaaaaaaaaaaaaaaaaaaaa",
            "api_key = os.environ.get(\"API_KEY\")",
            "password = this.options.proxy.password || ''",
            "privateKey: process.env.GITHUB_APP_PRIVATE_KEY,",
            "pub const DOMAIN_PASSWORD_COMPLEX: DOMAIN_PASSWORD_PROPERTIES = 1u32;",
            "pub passwordValidator: WS_VALIDATE_PASSWORD_CALLBACK,",
            "privateKey: PrivateKeyCredentialInput,",
        ],
        reject_identifiers: true,
        ..SECRET
    },
];
