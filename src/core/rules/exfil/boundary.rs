//! The boundary convention of EXFIL patterns, as macros: a rule writes
//! only its own body (`token!(r"ghp_[A-Za-z0-9]{36}")`), never a left
//! boundary by hand. A credential sits between a left boundary that consumes
//! one non-token byte (`(?:^|[^0-9A-Za-z_-])`) and a right boundary that
//! consumes nothing (`(?-u:\b)`), so keys inside URLs, query strings, form
//! bodies and JSON are found while keys embedded in longer alphanumeric runs
//! are not, and two keys separated by a single byte are both found. The
//! credential itself is always the `secret` group.
//!
//! Which macro: `token!` for a key recognised by its own shape (a prefix
//! such as `sk-ant-api03-`); `named!` for a value recognised by the name or
//! context before it (`DEEPSEEK_API_KEY=`, `-----BEGIN`); `word!` for a URL
//! or webhook recognised by its scheme or host; `query!` for a query
//! parameter; `path_intent!` for a sensitive path (an indicator).

/// The left boundary of a token credential: one non-token byte or the start.
macro_rules! token_left {
    () => {
        r"(?:^|[^0-9A-Za-z_-])"
    };
}
/// The same, also refusing a `.` before the token (`favicon.ico-<hash>.png`).
macro_rules! token_left_nodot {
    () => {
        r"(?:^|[^0-9A-Za-z_.-])"
    };
}
/// The left boundary of a credential found by its name or context
/// (`DEEPSEEK_API_KEY=`, `postgres://`, `-----BEGIN`): not inside a word.
macro_rules! name_left {
    () => {
        r"(?:^|[^0-9A-Za-z])"
    };
}

/// A token credential: the left boundary, then `$body` as the `secret`
/// group, then a right boundary that consumes nothing (`\b`, the default),
/// one non-token byte or the end (`open`, for bodies that may end in `-`
/// or `_`), or a tail of its own (`; tail`). `nodot` refuses a `.` on the left.
/// Every EXFIL pattern is built by `token!`, `named!`, `word!`, `query!`
/// or `path_intent!`, so every rule has a left boundary (checked by the
/// catalogue tests).
macro_rules! token {
    (nodot $body:literal $($rest:tt)*) => {
        token!(@ token_left_nodot!(), $body $($rest)*)
    };
    (@ $left:expr, $body:literal) => {
        concat!($left, "(?P<secret>", $body, r")(?-u:\b)")
    };
    (@ $left:expr, $body:literal, open) => {
        concat!($left, "(?P<secret>", $body, r")(?:[^0-9A-Za-z_-]|$)")
    };
    (@ $left:expr, $body:literal; $tail:literal) => {
        concat!($left, "(?P<secret>", $body, ")", $tail)
    };
    ($body:literal $($rest:tt)*) => {
        token!(@ token_left!(), $body $($rest)*)
    };
}

/// The same, also taking the start of a line, which consumes no byte.
macro_rules! name_or_line_left {
    () => {
        r"(?:(?m:^)|[^0-9A-Za-z])"
    };
}

/// A credential found by its name or context; `$pattern` holds the
/// `secret` group and starts with the name, which must not sit inside a word.
/// `line` also takes a name at the start of a line: for a rule whose right
/// end consumes a byte (`\n`, `&`), so that a match ending a line does not
/// take the left boundary of a name starting the next (matches of one rule
/// never overlap).
macro_rules! named {
    (line $pattern:literal) => {
        concat!(name_or_line_left!(), $pattern)
    };
    ($pattern:literal) => {
        concat!(name_left!(), $pattern)
    };
}

/// A sensitive-path pattern that fires on intent, not mention: the path
/// must be the object of a command (`cat`, `cp`, `scp`, `tar`, `curl -F
/// f=@…`, …, also as a JSON `["cat","…"]` argument list), the value of a
/// JSON field or query/form parameter, or the path of a request line or URL.
/// Prose ("configure it in `.npmrc`"), ignore lists (`'**/.npmrc'`) and code
/// (`access('/etc/passwd')`, `process.env`) are not. `$body` starts with the
/// path's own name; a directory part before it (`~/`, `/home/u/`, `..%2F`,
/// `file=@`) is matched here. Every context is bounded, so the rule's lead
/// before its keyword stays a few hundred bytes; keep such rules' keywords
/// rare (`/etc/shadow`, not `/etc/`), since each occurrence costs a search
/// over the lead.
macro_rules! path_intent {
    ($body:literal) => {
        concat!(
            // a command and up to four option- or path-like arguments
            r#"(?:(?:^|[\s;&|(`"'])(?:sudo\s{1,4})?(?:cat|tac|less|more|head|tail|nl|strings|xxd|od|hexdump|base64|base32|cp|mv|scp|rsync|sftp|tar\s{1,4}-?[A-Za-z]{1,6}|zip(?:\s{1,4}-[rq]{1,2})?|7z\s{1,4}a|gzip|bzip2|xz|curl|wget|nc|ncat|socat|source|gpg|openssl|grep|type|copy|xcopy|Get-Content|gc)(?:\s{1,4}|["']\s{0,2},\s{0,2}["'])"#,
            r#"(?:(?:-{1,2}[A-Za-z0-9][^\s"';&|<>]{0,30}|[^\s"';&|<>]{0,30}[/.~$@:=%][^\s"';&|<>]{0,30})(?:\s{1,4}|["']\s{0,2},\s{0,2}["'])){0,3}"#,
            // a JSON field, a query or form parameter, a request line, a URL
            r#"|"[A-Za-z0-9_ .-]{1,40}"\s{0,3}:\s{0,3}|(?:(?m:^)|[?&])[A-Za-z0-9_.\[\]-]{1,40}=|(?:GET|HEAD|POST|PUT|DELETE|PATCH)\s{1,4}|[a-z]{2,8}://[A-Za-z0-9.:@_-]{1,253})"#,
            // an optional quote and directory part, then the path itself
            r#"["']?(?:[^\s"'<>|;&,()]{0,80}?(?:[/=@:\\]|%2[Ff]))?"#,
            $body
        )
    };
}

/// The left boundary of a query parameter: its separator (`?`, `&`, `;`).
macro_rules! query_left {
    () => {
        r"(?i:[?&;]"
    };
}

/// A credential found by a query parameter: `$name=` (case-insensitive)
/// right after the parameter separator, then `$rest`, which holds the
/// `secret` group.
macro_rules! query {
    ($name:literal, $rest:literal) => {
        concat!(query_left!(), $name, "=)", $rest)
    };
}

/// A credential in a URL, webhook or netrc line found by its scheme or host
/// (`postgres://`, `hooks.slack.com/`): a word boundary, which takes no byte,
/// so the regex keeps its literal prefix and stays cheap on the many `://`
/// of ordinary pages.
macro_rules! word {
    ($pattern:literal) => {
        concat!(r"(?-u:\b)", $pattern)
    };
}

/// Left boundaries an EXFIL pattern may start with (see `token!`).
pub const LEFT_BOUNDARIES: &[&str] = &[
    r"(?-u:\b)",
    query_left!(),
    concat!(token_left!(), "(?P<secret>"),
    concat!(token_left_nodot!(), "(?P<secret>"),
    name_left!(),
    name_or_line_left!(),
    PATH_INTENT_LEFT,
];

/// The start every `path_intent!` pattern shares.
pub const PATH_INTENT_LEFT: &str = path_intent!("");
