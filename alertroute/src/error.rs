//! Errors of the alertroute crate: one enum per stage, composed in [`enum@Error`].

use thiserror::Error;

/// A matcher string that cannot be parsed (route `matchers`, inhibit rules, silences, CLI).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MatcherParseError {
    /// A piece that is not `name op value` (classic grammar).
    #[error("bad matcher format: {piece}")]
    BadFormat {
        /// The offending piece of the input.
        piece: String,
        /// Byte offset of the piece in the input.
        offset: usize,
    },
    /// A double quote in the middle of a value, or an unterminated quoted value.
    #[error("matcher value contains unescaped double quote: {value}")]
    UnescapedQuote {
        /// The raw value as written.
        value: String,
        /// Byte offset of the piece in the input.
        offset: usize,
    },
    /// A syntax error of the UTF-8 grammar, with the byte range it concerns.
    #[error("{start}:{end}: {message}")]
    Syntax {
        /// Start byte offset.
        start: usize,
        /// End byte offset.
        end: usize,
        /// What went wrong.
        message: String,
    },
    /// The regular expression does not compile.
    #[error("error parsing regexp: {reason}: `{pattern}`")]
    InvalidRegex {
        /// The anchored pattern.
        pattern: String,
        /// The compiler's explanation.
        reason: String,
    },
    /// A CLI label that is not `name=value`.
    #[error("labels must be specified as key=value pairs")]
    NotEquality,
}

/// A duration string that is not Prometheus syntax (`30s`, `1h30m`, `2d`, `1w`). An empty
/// one says so, as Prometheus's parser does (`empty duration string`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", if .0.is_empty() { "empty duration string".to_string() } else { format!("not a valid duration string: {:?}", .0) })]
pub struct DurationError(pub String);

/// A time-interval specification that is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TimeIntervalError {
    /// A `times` entry without `start_time` or `end_time`.
    #[error("both start and end times must be provided")]
    MissingTime,
    /// `HH:MM` that does not parse.
    #[error("couldn't parse timestamp {0}, invalid format")]
    BadTimestamp(String),
    /// A time range whose start is not before its end.
    #[error("start time cannot be equal or greater than end time")]
    TimeOrder,
    /// A weekday/month/day range that runs backwards.
    #[error("start day cannot be before end day")]
    DayOrder,
    /// An unknown weekday or month name, or a number out of range.
    #[error("{field}: {reason}")]
    BadValue {
        /// Which field (`weekdays`, `months`, `days_of_month`, `years`).
        field: &'static str,
        /// The text as written.
        value: String,
        /// Why it was rejected, in Alertmanager's words (`mon is not a valid weekday`).
        reason: String,
    },
    /// An IANA zone name that is not known.
    #[error("unknown time zone {0}")]
    UnknownZone(String),
}

/// A configuration that does not load; the message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The YAML does not decode (syntax, wrong type, unknown field). Carries serde's message,
    /// which names the field and the line/column.
    #[error("yaml: {message}")]
    Yaml {
        /// The decoder's message.
        message: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
    },
    /// A key that this section does not know.
    #[error("field {field} not found in {section}")]
    UnknownField {
        /// The key as written.
        field: String,
        /// Where it appeared (`global`, `webhook_config`, ...).
        section: String,
    },
    /// The file is empty.
    #[error("no route provided in config")]
    Empty,
    /// There is no `route:` section.
    #[error("no routes provided")]
    NoRoute,
    /// The root route has no receiver.
    #[error("root route must specify a default receiver")]
    RootWithoutReceiver,
    /// The root route has matchers.
    #[error("root route must not have any matchers")]
    RootWithMatchers,
    /// The root route has `continue`.
    #[error("cannot have continue in root route")]
    RootWithContinue,
    /// The root route lists mute time intervals.
    #[error("root route must not have any mute time intervals")]
    RootWithMuteIntervals,
    /// The root route lists active time intervals.
    #[error("root route must not have any active time intervals")]
    RootWithActiveIntervals,
    /// A route names a receiver that is not defined.
    #[error("undefined receiver {0:?} used in route")]
    UndefinedReceiver(String),
    /// An inhibit rule or route names a time interval that is not defined.
    #[error("undefined time interval {0:?} used in route")]
    UndefinedTimeInterval(String),
    /// Two receivers with one name.
    #[error("notification config name {0:?} is not unique")]
    DuplicateReceiver(String),
    /// A receiver without a name.
    #[error("missing name in receiver")]
    MissingReceiverName,
    /// A time interval without a name.
    #[error("missing name in time interval")]
    MissingTimeIntervalName,
    /// Two time intervals with one name (the second in `time_intervals`).
    #[error("time interval {0:?} is not unique")]
    DuplicateTimeInterval(String),
    /// Two time intervals with one name (the second in the deprecated `mute_time_intervals`).
    #[error("mute time interval {0:?} is not unique")]
    DuplicateMuteTimeInterval(String),
    /// A label twice in `group_by`.
    #[error("duplicated label {0:?} in group_by")]
    DuplicateGroupBy(String),
    /// `...` together with names in `group_by`.
    #[error("cannot have wildcard group_by (`...`) and other labels at the same time")]
    WildcardWithOthers,
    /// An invalid label name in a list (`group_by`, `equal`).
    #[error("invalid label name {name:?} in {list} list")]
    InvalidLabelNameInList {
        /// The name.
        name: String,
        /// `group_by` or `equal`.
        list: &'static str,
    },
    /// An invalid label name as a `match`/`match_re` key.
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    /// A `match_re` entry with a null value.
    #[error("invalid regexp value for {0:?}")]
    NullRegex(String),
    /// `group_interval: 0`.
    #[error("group_interval cannot be zero")]
    ZeroGroupInterval,
    /// `repeat_interval: 0`.
    #[error("repeat_interval cannot be zero")]
    ZeroRepeatInterval,
    /// A matcher that does not parse, with where it was.
    #[error("{context}: {source}")]
    Matcher {
        /// Where the matcher appeared (`route matchers`, `inhibit rule source_matchers`, ...).
        context: String,
        /// The parse error.
        #[source]
        source: MatcherParseError,
    },
    /// A bad duration.
    #[error("{field}: {source}")]
    Duration {
        /// The key, e.g. `group_wait`.
        field: String,
        /// The parse error.
        #[source]
        source: DurationError,
    },
    /// A bad time interval.
    #[error("time interval {name:?}: {source}")]
    TimeInterval {
        /// The interval's name.
        name: String,
        /// What is wrong.
        #[source]
        source: TimeIntervalError,
    },
    /// An integration entry that is null (`- {}` decodes to null upstream) or lacks a
    /// required setting; the message is Alertmanager's.
    #[error("{0}")]
    Integration(IntegrationError),
}

/// A receiver integration (`webhook_configs`, `email_configs`, ...) that is not usable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IntegrationError {
    /// `- {}` or `- ~`: no settings at all.
    #[error("missing {0} config")]
    Missing(&'static str),
    /// A required setting is absent from the entry and from `global`.
    #[error("{0}")]
    Required(String),
    /// Two mutually exclusive settings are both present.
    #[error("at most one of {0} & {1} must be configured")]
    Exclusive(String, String),
    /// Another rule of the integration is broken; the message is Alertmanager's.
    #[error("{0}")]
    Invalid(String),
}

/// A silence that cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SilenceError {
    /// No matchers at all.
    #[error("at least one matcher required")]
    NoMatchers,
    /// Every matcher matches the empty string, so the silence would mute everything.
    #[error("at least one matcher must not match the empty string")]
    AllMatchEmpty,
    /// An invalid label name in a matcher.
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    /// `endsAt` before `startsAt`, or a zero timestamp.
    #[error("end time must not be before start time")]
    EndBeforeStart,
    /// No silence with that id.
    #[error("silence {0} not found")]
    NotFound(String),
    /// A snapshot that does not decode.
    #[error("corrupt silence snapshot at byte {offset}: {reason}")]
    CorruptSnapshot {
        /// Byte offset where decoding failed.
        offset: usize,
        /// The decoder's message.
        reason: String,
    },
}

/// A notification-log snapshot that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("corrupt notification log snapshot at byte {offset}: {reason}")]
pub struct NflogError {
    /// Byte offset where decoding failed.
    pub offset: usize,
    /// The decoder's message.
    pub reason: String,
}

/// Any error of the crate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// Configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Matcher syntax.
    #[error(transparent)]
    Matcher(#[from] MatcherParseError),
    /// Silences.
    #[error(transparent)]
    Silence(#[from] SilenceError),
    /// Notification log.
    #[error(transparent)]
    Nflog(#[from] NflogError),
}
