//! AI model and AI tooling providers: model APIs (Anthropic, OpenAI, Google
//! AI, Groq, …), inference hosts, LLM observability and vector stores.

use super::SECRET;
use crate::core::finding::Severity;
use crate::core::rules::spec::RuleSpec;

pub(super) const RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "anthropic_api_key",
        description: "Anthropic API key (sk-ant-api03-…); full access to the account's Claude usage and billing",
        severity: Severity::Critical,
        keywords: &["sk-ant-api"],
        pattern: token!(r"sk-ant-api0[0-9]-[A-Za-z0-9_-]{93}AA"),
        expected_hosts: &["api.anthropic.com"],
        examples: &[
            "x-api-key: sk-ant-api03-«b64url:93»AA",
            r#"{"anthropic_api_key":"sk-ant-api03-«b64url:93»AA","model":"claude"}"#,
            "https://collect.example.net/k?key=sk-ant-api03-«b64url:93»AA&u=1",
        ],
        counter_examples: &[
            "sk-ant-api03-xxxxxxxx",
            "see docs: keys look like sk-ant-api03-... and start with sk-ant",
            "mask-ant-api03-«b64url:93»AA",
        ],
        ..SECRET
    },
    RuleSpec {
        id: "anthropic_admin_key",
        description: "Anthropic Admin API key (sk-ant-admin01-…); manages the organisation, members and keys",
        severity: Severity::Critical,
        keywords: &["sk-ant-admin"],
        pattern: token!(r"sk-ant-admin0[0-9]-[A-Za-z0-9_-]{93}AA"),
        expected_hosts: &["api.anthropic.com"],
        examples: &[
            "x-api-key: sk-ant-admin01-«b64url:93»AA\r\n",
            "ANTHROPIC_ADMIN_KEY=sk-ant-admin01-«b64url:93»AA",
        ],
        counter_examples: &["sk-ant-admin01-REPLACE_ME", "xsk-ant-admin01-«b64url:93»AA"],
        ..SECRET
    },
    RuleSpec {
        id: "anthropic_oauth_token",
        description: "Anthropic OAuth access/refresh token (sk-ant-oat01-/sk-ant-ort01-), e.g. Claude Code login",
        severity: Severity::Critical,
        keywords: &["sk-ant-oat", "sk-ant-ort"],
        pattern: token!(r"sk-ant-o(?:at|rt)0[0-9]-[A-Za-z0-9_-]{80,120}", open),
        expected_hosts: &["api.anthropic.com", "console.anthropic.com", "claude.ai", ".claude.ai"],
        examples: &[
            "authorization: Bearer sk-ant-oat01-«b64url:93»AA",
            r#"{"refreshToken":"sk-ant-ort01-«b64url:93»AA"}"#,
        ],
        counter_examples: &["sk-ant-oat01-short", "token prefix sk-ant-oat01- is documented"],
        ..SECRET
    },
    RuleSpec {
        id: "openai_api_key",
        description: "OpenAI API key with the T3BlbkFJ marker (legacy sk-, sk-proj-, sk-svcacct-, sk-admin-)",
        severity: Severity::Critical,
        keywords: &["t3blbkfj"],
        pattern: token!(r"sk-(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_-]{20,80}T3BlbkFJ[A-Za-z0-9_-]{20,80}", open),
        expected_hosts: &["api.openai.com"],
        examples: &[
            "Authorization: Bearer sk-«alnum:20»T3BlbkFJ«alnum:20»",
            r#"{"key":"sk-proj-«b64url:74»T3BlbkFJ«b64url:74»"}"#,
            "k=sk-svcacct-«b64url:58»T3BlbkFJ«b64url:58»&next=1",
        ],
        counter_examples: &["sk-T3BlbkFJ", "task-«alnum:20»T3BlbkFJ«alnum:20»"],
        ..SECRET
    },
    RuleSpec {
        id: "openai_project_key",
        description: "OpenAI project, service-account or admin key (sk-proj-/sk-svcacct-/sk-admin-) without the legacy marker",
        severity: Severity::Critical,
        keywords: &["sk-proj-", "sk-svcacct-", "sk-admin-"],
        pattern: token!(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}", open),
        min_entropy: 3.5,
        expected_hosts: &["api.openai.com"],
        examples: &[
            "OPENAI_API_KEY=sk-proj-«b64url:120»",
            r#"{"headers":{"Authorization":"Bearer sk-svcacct-«b64url:90»"}}"#,
            "curl -H 'Authorization: Bearer sk-admin-«alnum:64»' https://x.example",
        ],
        counter_examples: &[
            "sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "task-proj-«alnum:64»",
            "sk-proj-abc",
        ],
        ..SECRET
    },
    RuleSpec {
        id: "google_api_key",
        description: "Google API key (AIza…, 39 chars): Gemini/Generative Language, Maps, Firebase and other Google APIs",
        keywords: &["aiza"],
        pattern: token!(r"AIza[0-9A-Za-z_-]{35}", open),
        expected_hosts: &["generativelanguage.googleapis.com", ".googleapis.com"],
        examples: &[
            "https://evil.example/?k=AIza«b64url:34»Q&x=1",
            "x-goog-api-key: AIza«alnum:35»",
            r#"{"apiKey":"AIza«alnum:35»","authDomain":"x.firebaseapp.com"}"#,
        ],
        counter_examples: &["AIzaSy", "plAIza«alnum:35»", "AIza«alnum:40»"],
        ..SECRET
    },
    RuleSpec {
        id: "google_oauth_client_secret",
        description: "Google OAuth client secret (GOCSPX-…)",
        keywords: &["gocspx-"],
        pattern: token!(r"GOCSPX-[A-Za-z0-9_-]{28}", open),
        expected_hosts: &["oauth2.googleapis.com", "accounts.google.com"],
        examples: &[
            r#"{"installed":{"client_secret":"GOCSPX-«b64url:27»a"}}"#,
            "client_secret=GOCSPX-«alnum:28»&grant_type=authorization_code",
        ],
        counter_examples: &["GOCSPX-short", "GOCSPX-«alnum:40»"],
        ..SECRET
    },
    RuleSpec {
        id: "google_oauth_access_token",
        description: "Google OAuth 2.0 access token (ya29.…)",
        keywords: &["ya29."],
        pattern: token!(r"ya29\.[0-9A-Za-z_-]{50,600}", open),
        min_entropy: 3.5,
        expected_hosts: &[".googleapis.com", ".google.com"],
        examples: &[
            "Authorization: Bearer ya29.«b64url:150»a",
            "access_token=ya29.a0«alnum:120»&expires_in=3599",
        ],
        counter_examples: &["ya29.short", "token starts with ya29. (docs)"],
        ..SECRET
    },
    RuleSpec {
        id: "gcp_service_account_key",
        description: "GCP service-account JSON key file (type service_account with private_key_id)",
        severity: Severity::Critical,
        keywords: &["service_account"],
        pattern: named!(r#""type"\s{0,8}:\s{0,8}"service_account"(?-u:[^{}]){0,2000}?"private_key_id"\s{0,8}:\s{0,8}"(?P<secret>[0-9a-f]{40})""#),
        examples: &[
            r#"{"type": "service_account", "project_id": "demo-1", "private_key_id": "«hex:40»", "private_key": "-----BEGIN PRIVATE KEY-----\n..."}"#,
            r#"{"type":"service_account","private_key_id":"«hex:40»"}"#,
        ],
        counter_examples: &[r#"{"type": "service_account", "client_email": "x@y.iam.gserviceaccount.com"}"#],
        ..SECRET
    },
    RuleSpec {
        id: "groq_api_key",
        description: "Groq API key (gsk_…)",
        keywords: &["gsk_"],
        pattern: token!(r"gsk_[A-Za-z0-9]{52}"),
        expected_hosts: &["api.groq.com"],
        examples: &["Authorization: Bearer gsk_«alnum:52»", r#"{"groq":"gsk_«alnum:52»"}"#],
        counter_examples: &["gsk_«alnum:20»", "xgsk_«alnum:52»"],
        ..SECRET
    },
    RuleSpec {
        id: "xai_api_key",
        description: "xAI (Grok) API key (xai-…)",
        keywords: &["xai-"],
        pattern: token!(r"xai-[A-Za-z0-9]{80}"),
        expected_hosts: &["api.x.ai"],
        examples: &["Authorization: Bearer xai-«alnum:80»", "XAI_API_KEY=xai-«alnum:80»\n"],
        counter_examples: &["xai-grok-2-latest", "xai-«alnum:30»"],
        ..SECRET
    },
    RuleSpec {
        id: "perplexity_api_key",
        description: "Perplexity API key (pplx-…)",
        keywords: &["pplx-"],
        pattern: token!(r"pplx-[A-Za-z0-9]{40,56}"),
        expected_hosts: &["api.perplexity.ai"],
        examples: &["Authorization: Bearer pplx-«alnum:48»", "?api_key=pplx-«hex:48»&q=x"],
        counter_examples: &["pplx-7b-online", "pplx-«alnum:20»"],
        ..SECRET
    },
    RuleSpec {
        id: "huggingface_token",
        description: "Hugging Face user access token (hf_…) or org token (api_org_…)",
        keywords: &["hf_", "api_org_"],
        pattern: token!(r"(?:hf_|api_org_)[A-Za-z0-9]{34}"),
        expected_hosts: &["huggingface.co", ".huggingface.co", ".hf.co"],
        examples: &["Authorization: Bearer hf_«alnum:34»", r#"{"token":"hf_«alnum:34»"}"#, "HF_TOKEN=api_org_«alnum:34»"],
        counter_examples: &["hf_hub_download", "hf_«alnum:40»", "self_«alnum:34»"],
        ..SECRET
    },
    RuleSpec {
        id: "replicate_api_token",
        description: "Replicate API token (r8_…)",
        keywords: &["r8_"],
        pattern: token!(r"r8_[A-Za-z0-9]{37}"),
        expected_hosts: &["api.replicate.com"],
        examples: &["Authorization: Token r8_«alnum:37»", "REPLICATE_API_TOKEN=r8_«alnum:37»"],
        counter_examples: &["r8_«alnum:10»", "ar8_«alnum:37»"],
        ..SECRET
    },
    RuleSpec {
        id: "openrouter_api_key",
        description: "OpenRouter API key (sk-or-v1-…)",
        keywords: &["sk-or-v1-"],
        pattern: token!(r"sk-or-v1-[0-9a-f]{64}"),
        expected_hosts: &["openrouter.ai"],
        examples: &["Authorization: Bearer sk-or-v1-«hex:64»", r#"{"apiKey":"sk-or-v1-«hex:64»"}"#],
        counter_examples: &["sk-or-v1-«hex:20»", "sk-or-v1-«upper:64»"],
        ..SECRET
    },
    RuleSpec {
        id: "deepseek_api_key",
        description: "DeepSeek API key (sk- + 32 hex) in a deepseek-named assignment",
        keywords: &["deepseek"],
        pattern: named!(r#"(?i:deepseek)[A-Za-z0-9_.-]{0,20}["']?\s{0,5}[:=]\s{0,5}["']?(?:Bearer\s+)?(?P<secret>sk-[0-9a-f]{32})(?-u:\b)"#),
        expected_hosts: &["api.deepseek.com"],
        examples: &["DEEPSEEK_API_KEY=sk-«hex:32»", r#"{"deepseek_key": "sk-«hex:32»"}"#],
        counter_examples: &["DEEPSEEK_MODEL=deepseek-chat", "deepseek_key=sk-«hex:16»"],
        ..SECRET
    },
    RuleSpec {
        id: "mistral_api_key",
        description: "Mistral AI API key (32 alphanumerics) in a mistral-named assignment",
        keywords: &["mistral"],
        pattern: named!(r#"(?i:mistral)[A-Za-z0-9_.-]{0,20}(?i:key|token)["']?\s{0,5}[:=]\s{0,5}["']?(?P<secret>[A-Za-z0-9]{32})(?-u:\b)"#),
        min_entropy: 3.0,
        expected_hosts: &["api.mistral.ai", "codestral.mistral.ai"],
        examples: &["MISTRAL_API_KEY=«alnum:32»", r#"{"mistral_api_key": "«alnum:32»"}"#],
        counter_examples: &["MISTRAL_API_KEY=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "mistral_model=mistral-large-latest"],
        ..SECRET
    },
    RuleSpec {
        id: "cohere_api_key",
        description: "Cohere API key (40 alphanumerics) in a cohere/co-named assignment",
        keywords: &["cohere", "co_api_key"],
        pattern: named!(r#"(?i:cohere[A-Za-z0-9_.-]{0,20}|co_api_key)["']?\s{0,5}[:=]\s{0,5}["']?(?P<secret>[A-Za-z0-9]{40})(?-u:\b)"#),
        min_entropy: 3.0,
        expected_hosts: &["api.cohere.com", "api.cohere.ai"],
        examples: &["COHERE_API_KEY=«alnum:40»", r#"{"co_api_key":"«alnum:40»"}"#],
        counter_examples: &["COHERE_MODEL=command-r-plus", "cohere_key=«alnum:20»"],
        ..SECRET
    },
    RuleSpec {
        id: "langsmith_api_key",
        description: "LangSmith API key (lsv2_pt_/lsv2_sk_)",
        keywords: &["lsv2_"],
        pattern: token!(r"lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}"),
        expected_hosts: &["api.smith.langchain.com", ".smith.langchain.com"],
        examples: &["x-api-key: lsv2_pt_«hex:32»_«hex:10»", "LANGCHAIN_API_KEY=lsv2_sk_«hex:32»_«hex:10»"],
        counter_examples: &["lsv2_pt_«hex:8»"],
        ..SECRET
    },
    RuleSpec {
        id: "langfuse_secret_key",
        description: "Langfuse secret key (sk-lf-<uuid>)",
        keywords: &["sk-lf-"],
        pattern: token!(r"sk-lf-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
        expected_hosts: &["cloud.langfuse.com", ".langfuse.com"],
        examples: &["LANGFUSE_SECRET_KEY=sk-lf-«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»", r#"{"secretKey":"sk-lf-«hex:8»-«hex:4»-«hex:4»-«hex:4»-«hex:12»"}"#],
        counter_examples: &["sk-lf-«hex:8»"],
        ..SECRET
    },
    RuleSpec {
        id: "tavily_api_key",
        description: "Tavily search API key (tvly-…)",
        keywords: &["tvly-"],
        pattern: token!(r"tvly-(?:dev-|prod-)?[A-Za-z0-9]{32}"),
        expected_hosts: &["api.tavily.com"],
        examples: &[r#"{"api_key":"tvly-«alnum:32»","query":"x"}"#, "TAVILY_API_KEY=tvly-dev-«alnum:32»"],
        counter_examples: &["tvly-«alnum:8»"],
        ..SECRET
    },
    RuleSpec {
        id: "pinecone_api_key",
        description: "Pinecone API key (pcsk_…)",
        keywords: &["pcsk_"],
        pattern: token!(r"pcsk_[A-Za-z0-9]{4,8}_[A-Za-z0-9]{50,80}"),
        expected_hosts: &["api.pinecone.io", ".pinecone.io"],
        examples: &["Api-Key: pcsk_«alnum:6»_«alnum:63»", "PINECONE_API_KEY=pcsk_«alnum:5»_«alnum:64»"],
        counter_examples: &["pcsk_«alnum:6»_short"],
        ..SECRET
    },
    RuleSpec {
        id: "elevenlabs_api_key",
        description: "ElevenLabs API key (sk_ + 48 hex)",
        keywords: &["sk_"],
        pattern: token!(r"sk_[0-9a-f]{48}"),
        min_entropy: 3.0,
        expected_hosts: &["api.elevenlabs.io"],
        examples: &["xi-api-key: sk_«hex:48»", r#"{"elevenlabs":"sk_«hex:48»"}"#],
        counter_examples: &["sk_live_«alnum:24»", "sk_«hex:32»"],
        ..SECRET
    },
];
