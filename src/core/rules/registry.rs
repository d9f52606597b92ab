//! Compiled rules: each rule's regex plus one keyword prefilter over every
//! rule's keywords. A text is matched against a rule's regex only when one of
//! that rule's keywords occurs in it, so benign text costs one sampled pass
//! of the prefilter and little else.

use super::prefilter::{KeywordFilter, PrefilterError};
use super::spec::{RuleKind, RuleSpec};
use crate::core::finding::Direction;
use regex::bytes::Regex;

/// A rule failed to compile. Only possible for a defect in the registry.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("rule `{id}`: invalid regex: {source}")]
    Regex {
        id: &'static str,
        #[source]
        source: Box<regex::Error>,
    },
    #[error("rule `{id}`: no prefilter keywords")]
    NoKeywords { id: &'static str },
    #[error("prefilter: {0}")]
    Prefilter(#[from] PrefilterError),
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub spec: &'static RuleSpec,
    pub regex: Regex,
    /// Index of the `secret` capture group, if the pattern has one.
    pub secret_group: Option<usize>,
}

impl Rule {
    pub fn is_secret(&self) -> bool {
        self.spec.kind == RuleKind::Secret
    }
}

/// Compiles a rule pattern exactly as the scanner runs it. Credentials and
/// command shapes are ASCII, so classes are byte classes: Unicode `\s`, `\w`
/// and `.` would compile into UTF-8 automata costing tens of MB of resident
/// memory across the catalogue.
pub fn compile_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(32 << 20)
        .build()
}

/// The compiled rules for one direction.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    prefilter: KeywordFilter,
    /// For each prefilter pattern, the rules that own that keyword.
    owners: Vec<Vec<u16>>,
}

impl RuleSet {
    /// Compiles `specs`. Keywords are matched ASCII case-insensitively.
    pub fn compile(
        specs: impl IntoIterator<Item = &'static RuleSpec>,
    ) -> Result<RuleSet, RuleError> {
        let mut rules = Vec::new();
        let mut keywords: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<u16>> = Vec::new();
        for spec in specs {
            if spec.keywords.is_empty() {
                return Err(RuleError::NoKeywords { id: spec.id });
            }
            let regex = compile_pattern(spec.pattern).map_err(|e| RuleError::Regex {
                id: spec.id,
                source: Box::new(e),
            })?;
            let secret_group = regex.capture_names().position(|n| n == Some("secret"));
            let idx = u16::try_from(rules.len()).unwrap_or(u16::MAX);
            for kw in spec.keywords {
                let kw = kw.to_ascii_lowercase();
                match keywords.iter().position(|k| *k == kw) {
                    Some(p) => owners[p].push(idx),
                    None => {
                        keywords.push(kw);
                        owners.push(vec![idx]);
                    }
                }
            }
            rules.push(Rule {
                spec,
                regex,
                secret_group,
            });
        }
        let prefilter = KeywordFilter::new(&keywords)?;
        Ok(RuleSet {
            rules,
            prefilter,
            owners,
        })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Indices of the rules whose keywords occur in `text`, ascending.
    pub fn candidates(&self, text: &[u8], out: &mut Vec<usize>) {
        out.clear();
        let words = self.rules.len().div_ceil(64);
        // Up to 256 rules per direction need no allocation per scan.
        let mut inline = [0u64; 4];
        let mut heap = Vec::new();
        let seen: &mut [u64] = if words <= inline.len() {
            &mut inline[..words]
        } else {
            heap.resize(words, 0);
            &mut heap
        };
        let mut remaining = self.rules.len();
        self.prefilter.scan(text, |keyword| {
            for &r in self.owners.get(keyword).map_or(&[][..], Vec::as_slice) {
                let (w, b) = (usize::from(r) / 64, usize::from(r) % 64);
                if let Some(word) = seen.get_mut(w) {
                    if *word & (1 << b) == 0 {
                        *word |= 1 << b;
                        out.push(usize::from(r));
                        remaining -= 1;
                    }
                }
            }
            remaining == 0
        });
        out.sort_unstable();
    }
}

/// Every built-in rule, EXFIL first.
pub fn builtin_specs() -> impl Iterator<Item = &'static RuleSpec> {
    super::exfil::EXFIL_RULES
        .iter()
        .chain(super::injection::INJECTION_RULES.iter())
}

/// The built-in rules that run on traffic going `direction`.
pub fn builtin_for(direction: Direction) -> impl Iterator<Item = &'static RuleSpec> {
    builtin_specs().filter(move |s| s.threat.direction() == direction)
}
