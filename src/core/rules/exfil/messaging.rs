//! Chat, mail and messaging services and their webhooks (Slack, Discord,
//! Telegram, Twilio, SendGrid, Mailgun, …).

use super::SECRET;
use crate::core::finding::Severity;
use crate::core::rules::spec::RuleSpec;

pub(super) const RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "slack_bot_token",
        description: "Slack bot token (xoxb-…)",
        keywords: &["xoxb-"],
        pattern: token!(r"xoxb-[0-9]{8,14}-[0-9]{8,14}-[A-Za-z0-9]{20,34}"),
        expected_hosts: &["slack.com", ".slack.com"],
        examples: &["Authorization: Bearer xoxb-«digit:12»-«digit:13»-«alnum:24»", "token=xoxb-«digit:11»-«digit:12»-«alnum:24»&channel=C1"],
        counter_examples: &["xoxb-your-token-here", "xoxb-123-456-abc"],
        ..SECRET
    },
    RuleSpec {
        id: "slack_user_token",
        description: "Slack user or enterprise token (xoxp-/xoxe-)",
        keywords: &["xoxp-", "xoxe-"],
        pattern: token!(r"xox[pe](?:-[0-9]{8,14}){3}-[A-Za-z0-9]{28,34}"),
        expected_hosts: &["slack.com", ".slack.com"],
        examples: &["SLACK_USER_TOKEN=xoxp-«digit:12»-«digit:12»-«digit:13»-«hex:32»", r#"{"token":"xoxe-«digit:10»-«digit:11»-«digit:12»-«alnum:30»"}"#],
        counter_examples: &["xoxp-0000-0000"],
        ..SECRET
    },
    RuleSpec {
        id: "slack_legacy_token",
        description: "Slack legacy/workspace/refresh token (xoxa-, xoxo-, xoxr-, xoxs-)",
        keywords: &["xoxa-", "xoxo-", "xoxr-", "xoxs-"],
        pattern: token!(r"xox[aors]-(?:[0-9]{1,14}-){1,4}[A-Za-z0-9]{8,64}"),
        min_entropy: 3.0,
        expected_hosts: &["slack.com", ".slack.com"],
        examples: &["token=xoxs-«digit:10»-«digit:11»-«digit:12»-«hex:64»", "xoxa-2-«alnum:40»"],
        counter_examples: &["xoxa-1-aaaaaaaaaaaa"],
        ..SECRET
    },
    RuleSpec {
        id: "slack_app_token",
        description: "Slack app-level token (xapp-…)",
        keywords: &["xapp-"],
        pattern: token!(r"xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,14}-[A-Za-z0-9]{60,70}"),
        expected_hosts: &["slack.com", ".slack.com"],
        examples: &["SLACK_APP_TOKEN=xapp-1-«upalnum:11»-«digit:13»-«hex:64»", "Authorization: Bearer xapp-1-«upalnum:10»-«digit:12»-«hex:64»"],
        counter_examples: &["xapp-1-ABC-123-def"],
        ..SECRET
    },
    RuleSpec {
        id: "slack_config_token",
        description: "Slack app configuration access/refresh token (xoxe.xoxp-/xoxe-1-)",
        keywords: &["xoxe"],
        pattern: token!(r"xoxe(?:\.xox[bp])?-[0-9]-[A-Za-z0-9]{140,170}"),
        expected_hosts: &["slack.com", ".slack.com"],
        examples: &["token=xoxe.xoxp-1-«upalnum:164»", "refresh_token=xoxe-1-«upalnum:146»"],
        counter_examples: &["xoxe-1-«upalnum:20»"],
        ..SECRET
    },
    RuleSpec {
        id: "slack_webhook_url",
        description: "Slack incoming webhook / workflow trigger URL (anyone holding it can post)",
        keywords: &["hooks.slack.com"],
        pattern: word!(r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>T[A-Z0-9]{8,12}/[A-Za-z0-9]{8,12}/[A-Za-z0-9/]{20,60})(?-u:\b)"),
        expected_hosts: &["hooks.slack.com"],
        examples: &[
            "https://hooks.slack.com/services/T«upalnum:10»/B«upalnum:10»/«alnum:24»",
            r#"{"webhook":"https://hooks.slack.com/workflows/T«upalnum:9»/A«upalnum:10»/«digit:18»/«alnum:24»"}"#,
        ],
        counter_examples: &["https://hooks.slack.com/services/T000/B000/XXXX", "see hooks.slack.com docs"],
        ..SECRET
    },
    RuleSpec {
        id: "discord_webhook_url",
        description: "Discord webhook URL with its token",
        keywords: &["discord"],
        pattern: word!(r"discord(?:app)?\.com/api/(?:v[0-9]{1,2}/)?webhooks/[0-9]{17,20}/(?P<secret>[A-Za-z0-9_-]{60,72})(?:[^0-9A-Za-z_-]|$)"),
        expected_hosts: &["discord.com", "discordapp.com"],
        examples: &["https://discord.com/api/webhooks/«digit:19»/«b64url:67»a", r#"{"url":"https://discordapp.com/api/webhooks/«digit:18»/«alnum:68»"}"#],
        counter_examples: &["https://discord.com/api/webhooks/123/abc"],
        ..SECRET
    },
    RuleSpec {
        id: "discord_bot_token",
        description: "Discord bot token in a discord-named assignment or `Authorization: Bot` header",
        keywords: &["discord", "authorization"],
        pattern: named!(r#"(?:(?i:discord)[A-Za-z0-9_.-]{0,30}["']?\s{0,5}[:=]\s{0,5}["']?|(?i:authorization)["']?\s{0,3}:\s{0,3}["']?Bot\s)(?P<secret>[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})(?:[^0-9A-Za-z_-]|$)"#),
        expected_hosts: &["discord.com", ".discord.com", "discordapp.com", "gateway.discord.gg"],
        examples: &["DISCORD_TOKEN=M«alnum:25».«b64url:6».«b64url:38»", "Authorization: Bot N«alnum:23».«alnum:6».«alnum:27»"],
        counter_examples: &["DISCORD_TOKEN=changeme", "Authorization: Bot token-here"],
        ..SECRET
    },
    RuleSpec {
        id: "telegram_bot_token",
        description: "Telegram Bot API token (<bot id>:AA…)",
        keywords: &[":aa"],
        pattern: named!(r"(?:bot)?(?P<secret>[0-9]{8,10}:AA[0-9A-Za-z_-]{33})(?:[^0-9A-Za-z_-]|$)"),
        expected_hosts: &["api.telegram.org"],
        examples: &["https://api.telegram.org/bot«digit:10»:AA«b64url:32»Q/sendMessage", "TELEGRAM_BOT_TOKEN=«digit:9»:AA«alnum:33»"],
        counter_examples: &["12:AAbc", "time 1700000000:AAAA"],
        ..SECRET
    },
    RuleSpec {
        id: "twilio_api_key",
        description: "Twilio API key SID (SK + 32 hex)",
        keywords: &["sk0", "sk1", "sk2", "sk3", "sk4", "sk5", "sk6", "sk7", "sk8", "sk9", "ska", "skb", "skc", "skd", "ske", "skf"],
        pattern: token!(r"SK[0-9a-f]{32}"),
        min_entropy: 2.5,
        expected_hosts: &["api.twilio.com", ".twilio.com"],
        examples: &["TWILIO_API_KEY=SK«hex:32»", "https://SK«hex:32»:«alnum:32»@api.example.com/"],
        counter_examples: &["SK00000000000000000000000000000000", "ASK«hex:32»"],
        ..SECRET
    },
    RuleSpec {
        id: "twilio_auth_token",
        description: "Twilio auth token (32 hex) in a twilio-named assignment",
        severity: Severity::Critical,
        keywords: &["twilio"],
        pattern: named!(r#"(?i:twilio)[A-Za-z0-9_.-]{0,25}["']?\s{0,5}[:=]\s{0,5}["']?(?P<secret>[0-9a-f]{32})(?-u:\b)"#),
        min_entropy: 2.5,
        expected_hosts: &["api.twilio.com", ".twilio.com"],
        examples: &["TWILIO_AUTH_TOKEN=«hex:32»", r#"{"twilioAuthToken": "«hex:32»"}"#],
        counter_examples: &["TWILIO_AUTH_TOKEN=00000000000000000000000000000000", "TWILIO_REGION=us1"],
        ..SECRET
    },
    RuleSpec {
        id: "sendgrid_api_key",
        description: "SendGrid API key (SG.<id>.<secret>)",
        keywords: &["sg."],
        pattern: token!(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", open),
        expected_hosts: &["api.sendgrid.com"],
        examples: &["Authorization: Bearer SG.«b64url:22».«b64url:42»a", "SENDGRID_API_KEY=SG.«alnum:22».«alnum:43»"],
        counter_examples: &["SG.example.key", "SG.«alnum:22»"],
        ..SECRET
    },
    RuleSpec {
        id: "mailgun_api_key",
        description: "Mailgun API key (key-<32 hex> or <32 hex>-<8>-<8>) after a mailgun name or api: basic auth",
        keywords: &["mailgun", "api:"],
        pattern: named!(r"(?:(?i:mailgun)[^\r\n]{0,40}?|api:)(?P<secret>key-[0-9a-f]{32}|[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})(?-u:\b)"),
        min_entropy: 2.5,
        expected_hosts: &["api.mailgun.net", "api.eu.mailgun.net"],
        examples: &["MAILGUN_API_KEY=key-«hex:32»", "curl -s --user 'api:«hex:32»-«hex:8»-«hex:8»' https://x"],
        counter_examples: &["cache key-«hex:32» stored", "MAILGUN_DOMAIN=mg.example.com"],
        ..SECRET
    },
    RuleSpec {
        id: "mailchimp_api_key",
        description: "Mailchimp API key (<32 hex>-us<dc>)",
        // The data centre's digit is part of the keyword: `-us` alone is in
        // every `-use`, `-user` and `-used`.
        keywords: &["-us0", "-us1", "-us2", "-us3", "-us4", "-us5", "-us6", "-us7", "-us8", "-us9"],
        pattern: token!(r"[0-9a-f]{32}-us[0-9]{1,2}"),
        min_entropy: 2.5,
        expected_hosts: &[".api.mailchimp.com"],
        examples: &["MAILCHIMP_API_KEY=«hex:32»-us21", "https://any:«hex:32»-us6@us6.api.example.com/3.0/"],
        counter_examples: &["«hex:32»-usage", "00000000000000000000000000000000-us1"],
        ..SECRET
    },
    RuleSpec {
        id: "brevo_api_key",
        description: "Brevo (Sendinblue) API key (xkeysib-…)",
        keywords: &["xkeysib-"],
        pattern: token!(r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}"),
        expected_hosts: &["api.brevo.com", "api.sendinblue.com"],
        examples: &["api-key: xkeysib-«hex:64»-«alnum:16»", r#"{"brevo":"xkeysib-«hex:64»-«alnum:16»"}"#],
        counter_examples: &["xkeysib-«hex:10»"],
        ..SECRET
    },
    RuleSpec {
        id: "resend_api_key",
        description: "Resend email API key (re_…)",
        keywords: &["re_"],
        pattern: token!(r"re_[A-Za-z0-9]{8}_[A-Za-z0-9]{24}"),
        min_entropy: 3.0,
        expected_hosts: &["api.resend.com"],
        examples: &["Authorization: Bearer re_«alnum:8»_«alnum:24»", "RESEND_API_KEY=re_«alnum:8»_«alnum:24»"],
        counter_examples: &["re_render_component", "are_«alnum:8»_«alnum:24»"],
        ..SECRET
    },
    RuleSpec {
        id: "mailersend_api_token",
        description: "MailerSend API token (mlsn.…)",
        keywords: &["mlsn."],
        pattern: token!(r"mlsn\.[a-f0-9]{64}"),
        expected_hosts: &["api.mailersend.com"],
        examples: &["Authorization: Bearer mlsn.«hex:64»", "MAILERSEND_API_KEY=mlsn.«hex:64»"],
        counter_examples: &["mlsn.«hex:12»"],
        ..SECRET
    },
];
