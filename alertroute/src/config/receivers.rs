//! Receivers and their integrations: names, settings kept as structured values, and the
//! global-to-receiver defaults and checks of Alertmanager.
//!
//! The crate does not deliver anything itself; each [`Integration`] carries its settings as a
//! JSON value (with global defaults already filled in) so the caller can deliver.

use serde_json::{Map, Value as Json};
use serde_yaml_ng::{Mapping, Value as Yaml};

use crate::error::{ConfigError, IntegrationError};

/// A named receiver and its integrations, in config order.
#[derive(Debug, Clone, PartialEq)]
pub struct Receiver {
    /// The unique name routes refer to.
    pub name: String,
    /// Every integration entry (`webhook_configs[0]`, `email_configs[0]`, ...).
    pub integrations: Vec<Integration>,
}

/// One integration entry of a receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    /// The integration kind (`webhook`, `email`, `slack`, ...).
    pub kind: &'static str,
    /// Position among the receiver's integrations of this kind (the nflog key uses it).
    pub index: usize,
    /// Whether resolved alerts are sent (the kind's default unless `send_resolved` is set).
    pub send_resolved: bool,
    /// All settings of the entry, with global defaults filled in.
    pub settings: Json,
}

impl Integration {
    /// The webhook `url` (webhook integrations).
    pub fn url(&self) -> Option<&str> {
        self.settings.get("url").and_then(Json::as_str)
    }

    /// The webhook `max_alerts` (0 = unlimited).
    pub fn max_alerts(&self) -> usize {
        self.settings
            .get("max_alerts")
            .and_then(Json::as_f64)
            .filter(|f| *f >= 0.0)
            .unwrap_or(0.0) as usize
    }
}

/// A secret that may come from the global section: (global key, local key).
type Inherit = (&'static str, &'static str);

struct Kind {
    key: &'static str,
    name: &'static str,
    send_resolved: bool,
    /// Settings filled from `global` when the entry leaves both `x` and `x_file` unset.
    inherit: &'static [Inherit],
    /// Settings copied from `global` when the entry leaves them unset (no `_file` twin).
    plain: &'static [Inherit],
    /// Requirements: any of these keys must be set, else the message.
    required: &'static [(&'static [&'static str], &'static str)],
    /// Local pairs that exclude each other.
    exclusive: &'static [(&'static str, &'static str)],
    /// The accepted keys, when checked.
    fields: Option<&'static [&'static str]>,
}

const KINDS: &[Kind] = &[
    Kind {
        key: "email_configs",
        name: "email",
        send_resolved: false,
        inherit: &[
            ("smtp_auth_password", "auth_password"),
            ("smtp_auth_secret", "auth_secret"),
        ],
        plain: &[
            ("smtp_smarthost", "smarthost"),
            ("smtp_from", "from"),
            ("smtp_auth_username", "auth_username"),
            ("smtp_auth_identity", "auth_identity"),
            ("smtp_hello", "hello"),
            ("smtp_require_tls", "require_tls"),
            ("smtp_tls_config", "tls_config"),
            ("smtp_force_implicit_tls", "force_implicit_tls"),
        ],
        required: &[
            (&["to"], "missing to address in email config"),
            (&["smarthost"], "no global SMTP smarthost set"),
            (&["from"], "no global SMTP from set"),
        ],
        exclusive: &[("auth_password", "auth_password_file")],
        fields: Some(&[
            "send_resolved",
            "to",
            "from",
            "hello",
            "smarthost",
            "auth_username",
            "auth_password",
            "auth_password_file",
            "auth_secret",
            "auth_secret_file",
            "auth_identity",
            "headers",
            "html",
            "text",
            "require_tls",
            "tls_config",
            "force_implicit_tls",
            "threading",
        ]),
    },
    Kind {
        key: "pagerduty_configs",
        name: "pagerduty",
        send_resolved: true,
        inherit: &[],
        plain: &[("pagerduty_url", "url")],
        required: &[(
            &[
                "routing_key",
                "routing_key_file",
                "service_key",
                "service_key_file",
            ],
            "missing service or routing key in PagerDuty config",
        )],
        exclusive: &[
            ("routing_key", "routing_key_file"),
            ("service_key", "service_key_file"),
        ],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "service_key",
            "service_key_file",
            "routing_key",
            "routing_key_file",
            "url",
            "client",
            "client_url",
            "description",
            "details",
            "images",
            "links",
            "source",
            "severity",
            "class",
            "component",
            "group",
            "timeout",
        ]),
    },
    Kind {
        key: "slack_configs",
        name: "slack",
        send_resolved: false,
        inherit: &[
            ("slack_api_url", "api_url"),
            ("slack_app_token", "app_token"),
        ],
        plain: &[("slack_app_url", "app_url")],
        required: &[(
            &["api_url", "api_url_file", "app_token", "app_token_file"],
            "no Slack API URL nor App token set either inline or in a file",
        )],
        exclusive: &[("api_url", "api_url_file"), ("app_token", "app_token_file")],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "api_url",
            "api_url_file",
            "app_token",
            "app_token_file",
            "app_url",
            "channel",
            "username",
            "color",
            "title",
            "title_link",
            "pretext",
            "text",
            "fields",
            "short_fields",
            "footer",
            "fallback",
            "callback_id",
            "icon_emoji",
            "icon_url",
            "image_url",
            "thumb_url",
            "link_names",
            "mrkdwn_in",
            "actions",
            "update_message",
            "timeout",
            "message_text",
        ]),
    },
    Kind {
        key: "webhook_configs",
        name: "webhook",
        send_resolved: true,
        inherit: &[],
        plain: &[],
        required: &[(
            &["url", "url_file"],
            "one of url or url_file must be configured",
        )],
        exclusive: &[("url", "url_file")],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "url",
            "url_file",
            "max_alerts",
            "timeout",
        ]),
    },
    Kind {
        key: "opsgenie_configs",
        name: "opsgenie",
        send_resolved: true,
        inherit: &[("opsgenie_api_key", "api_key")],
        plain: &[("opsgenie_api_url", "api_url")],
        required: &[(
            &["api_key", "api_key_file"],
            "no global OpsGenie API Key set either inline or in a file",
        )],
        exclusive: &[("api_key", "api_key_file")],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "api_key",
            "api_key_file",
            "api_url",
            "message",
            "description",
            "source",
            "details",
            "entity",
            "responders",
            "actions",
            "tags",
            "note",
            "priority",
            "update_alerts",
        ]),
    },
    Kind {
        key: "wechat_configs",
        name: "wechat",
        send_resolved: false,
        inherit: &[("wechat_api_secret", "api_secret")],
        plain: &[
            ("wechat_api_url", "api_url"),
            ("wechat_api_corp_id", "corp_id"),
        ],
        required: &[
            (
                &["api_secret", "api_secret_file"],
                "no global Wechat Api Secret set either inline or in a file",
            ),
            (&["corp_id"], "no global Wechat CorpID set"),
        ],
        exclusive: &[("api_secret", "api_secret_file")],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "api_secret",
            "api_secret_file",
            "corp_id",
            "message",
            "api_url",
            "to_user",
            "to_party",
            "to_tag",
            "agent_id",
            "message_type",
        ]),
    },
    Kind {
        key: "pushover_configs",
        name: "pushover",
        send_resolved: true,
        inherit: &[],
        plain: &[],
        required: &[
            (
                &["user_key", "user_key_file"],
                "missing user key in Pushover config",
            ),
            (&["token", "token_file"], "missing token in Pushover config"),
        ],
        exclusive: &[("user_key", "user_key_file"), ("token", "token_file")],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "user_key",
            "user_key_file",
            "token",
            "token_file",
            "title",
            "message",
            "url",
            "url_title",
            "device",
            "sound",
            "priority",
            "retry",
            "expire",
            "ttl",
            "html",
            "monospace",
        ]),
    },
    Kind {
        key: "victorops_configs",
        name: "victorops",
        send_resolved: true,
        inherit: &[("victorops_api_key", "api_key")],
        plain: &[("victorops_api_url", "api_url")],
        required: &[
            (
                &["api_key", "api_key_file"],
                "no global VictorOps API Key set",
            ),
            (&["routing_key"], "missing Routing key in VictorOps config"),
        ],
        exclusive: &[("api_key", "api_key_file")],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "api_key",
            "api_key_file",
            "api_url",
            "routing_key",
            "message_type",
            "state_message",
            "entity_display_name",
            "monitoring_tool",
            "custom_fields",
        ]),
    },
    Kind {
        key: "sns_configs",
        name: "sns",
        send_resolved: true,
        inherit: &[],
        plain: &[],
        required: &[(
            &["target_arn", "topic_arn", "phone_number"],
            "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config",
        )],
        exclusive: &[],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "api_url",
            "sigv4",
            "topic_arn",
            "phone_number",
            "target_arn",
            "subject",
            "message",
            "attributes",
        ]),
    },
    Kind {
        key: "telegram_configs",
        name: "telegram",
        send_resolved: true,
        inherit: &[("telegram_bot_token", "bot_token")],
        plain: &[("telegram_api_url", "api_url")],
        required: &[
            (
                &["bot_token", "bot_token_file"],
                "missing bot_token or bot_token_file on telegram_config",
            ),
            (
                &["chat_id", "chat_id_file"],
                "missing chat_id on telegram_config",
            ),
        ],
        exclusive: &[("bot_token", "bot_token_file")],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "api_url",
            "bot_token",
            "bot_token_file",
            "chat_id",
            "chat_id_file",
            "message_thread_id",
            "message",
            "disable_notifications",
            "parse_mode",
        ]),
    },
    Kind {
        key: "webex_configs",
        name: "webex",
        send_resolved: true,
        inherit: &[],
        plain: &[("webex_api_url", "api_url")],
        required: &[(&["room_id"], "missing room_id on webex_config")],
        exclusive: &[],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "api_url",
            "message",
            "room_id",
        ]),
    },
    Kind {
        key: "discord_configs",
        name: "discord",
        send_resolved: true,
        inherit: &[],
        plain: &[],
        required: &[(
            &["webhook_url", "webhook_url_file"],
            "one of webhook_url or webhook_url_file must be configured",
        )],
        exclusive: &[("webhook_url", "webhook_url_file")],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "webhook_url",
            "webhook_url_file",
            "content",
            "title",
            "message",
            "username",
            "avatar_url",
        ]),
    },
    Kind {
        key: "msteams_configs",
        name: "msteams",
        send_resolved: true,
        inherit: &[],
        plain: &[],
        required: &[(
            &["webhook_url", "webhook_url_file"],
            "one of webhook_url or webhook_url_file must be configured",
        )],
        exclusive: &[("webhook_url", "webhook_url_file")],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "webhook_url",
            "webhook_url_file",
            "title",
            "summary",
            "text",
        ]),
    },
    Kind {
        key: "msteamsv2_configs",
        name: "msteamsv2",
        send_resolved: true,
        inherit: &[],
        plain: &[],
        required: &[(
            &["webhook_url", "webhook_url_file"],
            "one of webhook_url or webhook_url_file must be configured",
        )],
        exclusive: &[("webhook_url", "webhook_url_file")],
        fields: Some(&[
            "send_resolved",
            "http_config",
            "webhook_url",
            "webhook_url_file",
            "title",
            "text",
        ]),
    },
    Kind {
        key: "rocketchat_configs",
        name: "rocketchat",
        send_resolved: false,
        inherit: &[
            ("rocketchat_token", "token"),
            ("rocketchat_token_id", "token_id"),
        ],
        plain: &[("rocketchat_api_url", "api_url")],
        required: &[
            (
                &["token", "token_file"],
                "no global Rocketchat Token set either inline or in a file",
            ),
            (
                &["token_id", "token_id_file"],
                "no global Rocketchat Token ID set either inline or in a file",
            ),
        ],
        exclusive: &[("token", "token_file"), ("token_id", "token_id_file")],
        fields: None,
    },
    Kind {
        key: "mattermost_configs",
        name: "mattermost",
        send_resolved: true,
        inherit: &[("mattermost_webhook_url", "webhook_url")],
        plain: &[],
        required: &[(
            &["webhook_url", "webhook_url_file"],
            "missing webhook_url or webhook_url_file on mattermost_config",
        )],
        exclusive: &[("webhook_url", "webhook_url_file")],
        fields: None,
    },
    Kind {
        key: "jira_configs",
        name: "jira",
        send_resolved: true,
        inherit: &[],
        plain: &[("jira_api_url", "api_url")],
        required: &[
            (&["project"], "missing project in jira_config"),
            (&["issue_type"], "missing issue_type in jira_config"),
        ],
        exclusive: &[],
        fields: None,
    },
    Kind {
        key: "incidentio_configs",
        name: "incidentio",
        send_resolved: true,
        inherit: &[],
        plain: &[],
        required: &[(
            &["url", "url_file"],
            "one of url or url_file must be configured",
        )],
        exclusive: &[("url", "url_file")],
        fields: None,
    },
];

/// Keys accepted in `global`.
const GLOBAL_KEYS: &[&str] = &[
    "resolve_timeout",
    "http_config",
    "smtp_from",
    "smtp_hello",
    "smtp_smarthost",
    "smtp_auth_username",
    "smtp_auth_password",
    "smtp_auth_password_file",
    "smtp_auth_secret",
    "smtp_auth_secret_file",
    "smtp_auth_identity",
    "smtp_require_tls",
    "smtp_tls_config",
    "smtp_force_implicit_tls",
    "slack_api_url",
    "slack_api_url_file",
    "slack_app_token",
    "slack_app_token_file",
    "slack_app_url",
    "pagerduty_url",
    "opsgenie_api_url",
    "opsgenie_api_key",
    "opsgenie_api_key_file",
    "wechat_api_url",
    "wechat_api_secret",
    "wechat_api_secret_file",
    "wechat_api_corp_id",
    "victorops_api_url",
    "victorops_api_key",
    "victorops_api_key_file",
    "telegram_api_url",
    "telegram_bot_token",
    "telegram_bot_token_file",
    "webex_api_url",
    "rocketchat_api_url",
    "rocketchat_token",
    "rocketchat_token_file",
    "rocketchat_token_id",
    "rocketchat_token_id_file",
    "mattermost_webhook_url",
    "mattermost_webhook_url_file",
    "jira_api_url",
];

/// Global pairs that exclude each other, checked in this order.
const GLOBAL_EXCLUSIVE: &[(&str, &str)] = &[
    ("smtp_auth_password", "smtp_auth_password_file"),
    ("smtp_auth_secret", "smtp_auth_secret_file"),
    ("slack_api_url", "slack_api_url_file"),
    ("slack_app_token", "slack_app_token_file"),
    ("opsgenie_api_key", "opsgenie_api_key_file"),
    ("victorops_api_key", "victorops_api_key_file"),
    ("wechat_api_secret", "wechat_api_secret_file"),
    ("telegram_bot_token", "telegram_bot_token_file"),
    ("rocketchat_token", "rocketchat_token_file"),
    ("rocketchat_token_id", "rocketchat_token_id_file"),
    ("mattermost_webhook_url", "mattermost_webhook_url_file"),
];

/// Converts YAML to JSON (non-string keys are stringified).
pub(crate) fn yaml_to_json(v: &Yaml) -> Json {
    match v {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Json::Number)
                    .unwrap_or(Json::Null)
            }
        }
        Yaml::String(s) => Json::String(s.clone()),
        Yaml::Sequence(s) => Json::Array(s.iter().map(yaml_to_json).collect()),
        Yaml::Mapping(m) => Json::Object(mapping_to_json(m)),
        Yaml::Tagged(t) => yaml_to_json(&t.value),
    }
}

fn key_text(k: &Yaml) -> String {
    match k {
        Yaml::String(s) => s.clone(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Null => String::new(),
        other => format!("{other:?}"),
    }
}

fn mapping_to_json(m: &Mapping) -> Map<String, Json> {
    m.iter()
        .map(|(k, v)| (key_text(k), yaml_to_json(v)))
        .collect()
}

fn is_set(m: &Map<String, Json>, k: &str) -> bool {
    match m.get(k) {
        None | Some(Json::Null) => false,
        Some(Json::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// Checks the `global` keys and their exclusive pairs; returns it as JSON.
pub(crate) fn check_global(global: Option<&Mapping>) -> Result<Map<String, Json>, ConfigError> {
    let g = global.map(mapping_to_json).unwrap_or_default();
    for k in g.keys() {
        if !GLOBAL_KEYS.contains(&k.as_str()) {
            return Err(ConfigError::UnknownField {
                field: k.clone(),
                section: "global".into(),
            });
        }
    }
    for (a, b) in GLOBAL_EXCLUSIVE {
        if is_set(&g, a) && is_set(&g, b) {
            return Err(IntegrationError::Exclusive(a.to_string(), b.to_string()).into());
        }
    }
    for (k, v) in &g {
        if k.ends_with("_url") && k != "smtp_smarthost" {
            if let Some(u) = v.as_str() {
                check_url(u)?;
            }
        }
    }
    if let Some(h) = g.get("smtp_smarthost").and_then(Json::as_str) {
        check_host_port(h)?;
    }
    check_bools(&g)?;
    check_http_config(&g)?;
    let token = is_set(&g, "slack_app_token") || is_set(&g, "slack_app_token_file");
    let url = is_set(&g, "slack_api_url") || is_set(&g, "slack_api_url_file");
    let post_message = g.get("slack_api_url").and_then(Json::as_str)
        == Some("https://slack.com/api/chat.postMessage");
    if token && url && !post_message {
        return Err(IntegrationError::Exclusive(
            "slack_app_token/slack_app_token_file".into(),
            "slack_api_url/slack_api_url_file".into(),
        )
        .into());
    }
    Ok(g)
}

impl From<IntegrationError> for ConfigError {
    fn from(e: IntegrationError) -> ConfigError {
        ConfigError::Integration(e)
    }
}

/// Decodes and checks one receiver entry. With `decode_only`, only the checks Alertmanager
/// makes while decoding run (no settings from `global`, no requirement that `global` can
/// satisfy), so that errors can be reported in the file's order.
pub(crate) fn build_receiver(
    raw: &Mapping,
    global: &Map<String, Json>,
    decode_only: bool,
) -> Result<Receiver, ConfigError> {
    let mut name = None;
    let mut integrations = Vec::new();
    for (k, v) in raw {
        let key = key_text(k);
        if key == "name" {
            name = match v {
                Yaml::Null => None,
                other => Some(match yaml_to_json(other) {
                    Json::String(s) => s,
                    j => j.to_string(),
                }),
            };
            continue;
        }
        let kind =
            KINDS
                .iter()
                .find(|kd| kd.key == key)
                .ok_or_else(|| ConfigError::UnknownField {
                    field: key.clone(),
                    section: "receiver".into(),
                })?;
        let entries = match v {
            Yaml::Null => continue,
            Yaml::Sequence(s) => s,
            _ => {
                return Err(ConfigError::Yaml {
                    message: format!("{key}: expected a list"),
                    line: None,
                    column: None,
                })
            }
        };
        for (index, e) in entries.iter().enumerate() {
            integrations.push(build_integration(kind, index, e, global, decode_only)?);
        }
    }
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or(ConfigError::MissingReceiverName)?;
    Ok(Receiver { name, integrations })
}

fn build_integration(
    kind: &'static Kind,
    index: usize,
    entry: &Yaml,
    global: &Map<String, Json>,
    decode_only: bool,
) -> Result<Integration, ConfigError> {
    let mut m = match entry {
        Yaml::Mapping(m) => mapping_to_json(m),
        Yaml::Null => return Err(IntegrationError::Missing(kind.name).into()),
        _ => {
            return Err(ConfigError::Yaml {
                message: format!("{}: expected a mapping", kind.key),
                line: None,
                column: None,
            })
        }
    };
    if let Some(fields) = kind.fields {
        for k in m.keys() {
            if !fields.contains(&k.as_str()) {
                return Err(ConfigError::UnknownField {
                    field: k.clone(),
                    section: format!("{}_config", kind.name),
                });
            }
        }
    }
    for (a, b) in kind.exclusive {
        if is_set(&m, a) && is_set(&m, b) {
            return Err(IntegrationError::Exclusive(a.to_string(), b.to_string()).into());
        }
    }
    // Slack's URL and app token are one choice: an entry that sets either keeps it.
    let slack_local = kind.name == "slack"
        && ["api_url", "api_url_file", "app_token", "app_token_file"]
            .iter()
            .any(|k| is_set(&m, k));
    for (g, l) in kind.inherit {
        if slack_local {
            break;
        }
        let lf = format!("{l}_file");
        if !is_set(&m, l) && !is_set(&m, &lf) {
            let gf = format!("{g}_file");
            if is_set(global, g) {
                m.insert(l.to_string(), global[*g].clone());
            } else if is_set(global, &gf) {
                m.insert(lf, global[&gf].clone());
            }
        }
    }
    for (g, l) in kind.plain {
        if !is_set(&m, l) && is_set(global, g) {
            m.insert(l.to_string(), global[*g].clone());
        }
    }
    if kind.name == "email" {
        // The password and secret files follow the same inheritance as the inline values.
        for (g, l) in [
            ("smtp_auth_password_file", "auth_password_file"),
            ("smtp_auth_secret_file", "auth_secret_file"),
        ] {
            let inline = l.trim_end_matches("_file");
            if !is_set(&m, l) && !is_set(&m, inline) && is_set(global, g) {
                m.insert(l.to_string(), global[g].clone());
            }
        }
    }
    for (keys, msg) in kind.required {
        // A requirement that `global` can fill is checked after decoding, in Go too.
        let from_global = kind.inherit.iter().chain(kind.plain).any(|(_, l)| {
            keys.iter()
                .any(|k| k == l || k.strip_suffix("_file") == Some(l))
        });
        // Alertmanager 0.25 checks Discord's URL with the whole file, too.
        if decode_only && (from_global || kind.name == "discord") {
            continue;
        }
        if !keys.iter().any(|k| is_set(&m, k)) {
            return Err(IntegrationError::Required(msg.to_string()).into());
        }
    }
    check_fields(kind, &m)?;
    if kind.name == "webex"
        && m.get("http_config")
            .and_then(|h| h.get("authorization"))
            .is_none_or(Json::is_null)
    {
        return Err(IntegrationError::Required(
            "missing webex_configs.http_config.authorization".into(),
        )
        .into());
    }
    if kind.name == "slack" && m.get("update_message").and_then(Json::as_bool) == Some(true) {
        let bot = is_set(&m, "app_token")
            || is_set(&m, "app_token_file")
            || m.get("api_url").and_then(Json::as_str)
                == Some("https://slack.com/api/chat.postMessage");
        if !bot {
            return Err(IntegrationError::Invalid(
                "update_message can only be used with bot tokens. api_url must be set to https://slack.com/api/chat.postMessage".into(),
            )
            .into());
        }
    }
    let send_resolved = m
        .get("send_resolved")
        .and_then(|v| match v {
            Json::String(w) => super::raw::yaml11_bool_word(w),
            other => other.as_bool(),
        })
        .unwrap_or(kind.send_resolved);
    Ok(Integration {
        kind: kind.name,
        index,
        send_resolved,
        settings: Json::Object(m),
    })
}

/// Field-level checks Alertmanager runs when it decodes an integration (URL schemes,
/// `host:port`, enumerations, reserved names, `http_config` exclusivity).
fn check_fields(kind: &Kind, m: &Map<String, Json>) -> Result<(), ConfigError> {
    let invalid =
        |msg: String| -> Result<(), ConfigError> { Err(IntegrationError::Invalid(msg).into()) };
    // Pushover's `url` is free text (a link in the message), not an endpoint.
    if kind.name != "pushover" {
        for k in ["url", "api_url", "webhook_url"] {
            if let Some(u) = m.get(k).and_then(Json::as_str) {
                check_url(u)?;
            }
        }
    }
    if let Some(h) = m.get("smarthost").and_then(Json::as_str) {
        check_host_port(h)?;
    }
    if let Some(v) = m.get("max_alerts") {
        // go-yaml takes any non-negative number here (1.5 included).
        if !v.is_null() && v.as_f64().is_none_or(|f| f < 0.0) {
            return invalid(format!("cannot unmarshal {v} into uint64 (max_alerts)"));
        }
    }
    check_bools(m)?;
    if let Some(v) = m.get("chat_id") {
        if !v.is_null() && v.as_i64().is_none() {
            let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            return invalid(format!(
                "cannot unmarshal !!str `{shown}` into int64 (chat_id)"
            ));
        }
    }
    match kind.name {
        "telegram" => {
            // Go reads chat_id as an integer; 0 is "not set".
            if m.get("chat_id").and_then(Json::as_i64) == Some(0) && !is_set(m, "chat_id_file") {
                return invalid("missing chat_id on telegram_config".into());
            }
            if let Some(p) = m.get("parse_mode").and_then(Json::as_str) {
                if !["", "Markdown", "MarkdownV2", "HTML"].contains(&p) {
                    return invalid(
                        "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string".into(),
                    );
                }
            }
        }
        "slack" => {
            for a in m
                .get("actions")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let has = |k: &str| {
                    a.get(k)
                        .and_then(Json::as_str)
                        .is_some_and(|s| !s.is_empty())
                };
                if !has("type") {
                    return invalid("missing type in Slack action configuration".into());
                }
                if !has("text") {
                    return invalid("missing text in Slack action configuration".into());
                }
                if !has("url") && !has("name") {
                    return invalid("missing name or url in Slack action configuration".into());
                }
                if let Some(c) = a.get("confirm").filter(|c| !c.is_null()) {
                    if c.get("text")
                        .and_then(Json::as_str)
                        .is_none_or(str::is_empty)
                    {
                        return invalid("missing text in Slack confirmation configuration".into());
                    }
                }
            }
            for f in m
                .get("fields")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let has = |k: &str| {
                    f.get(k)
                        .and_then(Json::as_str)
                        .is_some_and(|s| !s.is_empty())
                };
                if !has("title") {
                    return invalid("missing title in Slack field configuration".into());
                }
                if !has("value") {
                    return invalid("missing value in Slack field configuration".into());
                }
            }
        }
        "pushover" => {
            for k in ["retry", "expire", "ttl"] {
                match m.get(k) {
                    None | Some(Json::Null) => {}
                    Some(v) => {
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                        go_duration(&text).map_err(IntegrationError::Invalid)?;
                    }
                }
            }
        }
        "victorops" => {
            if let Some(Json::Object(cf)) = m.get("custom_fields") {
                for f in [
                    "routing_key",
                    "message_type",
                    "state_message",
                    "entity_display_name",
                    "monitoring_tool",
                    "entity_id",
                    "entity_state",
                ] {
                    if cf.contains_key(f) {
                        return invalid(format!("victorOps config contains custom field {f} which cannot be used as it conflicts with the fixed/static fields"));
                    }
                }
            }
        }
        "wechat" => {
            if let Some(t) = m.get("message_type").and_then(Json::as_str) {
                if !t.is_empty() && t != "text" && t != "markdown" {
                    return invalid(format!(
                        "weChat message type {t:?} does not match valid options ^(text|markdown)$"
                    ));
                }
            }
        }
        "sns" => {
            // Alertmanager's check is `(a == "") != (b == "") != (c == "")`: an odd number
            // of the three left empty is an error.
            let empty = ["target_arn", "topic_arn", "phone_number"]
                .iter()
                .filter(|k| !is_set(m, k))
                .count();
            if empty % 2 == 1 {
                return invalid(
                    "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"
                        .into(),
                );
            }
        }
        "opsgenie" => {
            for r in m
                .get("responders")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let has = |k: &str| {
                    r.get(k)
                        .and_then(Json::as_str)
                        .is_some_and(|s| !s.is_empty())
                };
                if !has("id") && !has("username") && !has("name") {
                    return invalid(format!("opsGenieConfig responder {} has to have at least one of id, username or name specified", responder_text(r)));
                }
                let t = r.get("type").and_then(Json::as_str).unwrap_or("");
                if !t.contains("{{")
                    && !["team", "teams", "user", "escalation", "schedule"]
                        .contains(&t.to_ascii_lowercase().as_str())
                {
                    return invalid(format!("opsGenieConfig responder {} type does not match valid options ^(team|teams|user|escalation|schedule)$", responder_text(r)));
                }
            }
        }
        "email" => {
            let mut seen = std::collections::HashSet::new();
            for h in m
                .get("headers")
                .and_then(Json::as_object)
                .into_iter()
                .flat_map(|o| o.keys())
            {
                let c = canonical_header(h);
                if !seen.insert(c.clone()) {
                    return invalid(format!("duplicate header {c:?} in email config"));
                }
            }
        }
        _ => {}
    }
    check_http_config(m)
}

/// Keys that Alertmanager decodes as booleans (YAML 1.1 words allowed, other text is not).
const BOOL_KEYS: &[&str] = &[
    "send_resolved",
    "require_tls",
    "smtp_require_tls",
    "force_implicit_tls",
    "smtp_force_implicit_tls",
    "update_alerts",
    "short_fields",
    "link_names",
    "disable_notifications",
    "html",
    "monospace",
    "update_message",
];

fn check_bools(m: &Map<String, Json>) -> Result<(), ConfigError> {
    for k in BOOL_KEYS {
        if let Some(Json::String(w)) = m.get(*k) {
            if super::raw::yaml11_bool_word(w).is_none() {
                return Err(IntegrationError::Invalid(format!(
                    "cannot unmarshal !!str `{w}` into bool ({k})"
                ))
                .into());
            }
        }
    }
    Ok(())
}

const HTTP_CONFIG_KEYS: &[&str] = &[
    "basic_auth",
    "authorization",
    "oauth2",
    "bearer_token",
    "bearer_token_file",
    "tls_config",
    "proxy_url",
    "no_proxy",
    "proxy_from_environment",
    "proxy_connect_header",
    "follow_redirects",
    "enable_http2",
    "http_headers",
];
const BASIC_AUTH_KEYS: &[&str] = &[
    "username",
    "username_file",
    "username_ref",
    "password",
    "password_file",
    "password_ref",
];
const AUTHORIZATION_KEYS: &[&str] = &["type", "credentials", "credentials_file", "credentials_ref"];
const TLS_CONFIG_KEYS: &[&str] = &[
    "ca",
    "ca_file",
    "ca_ref",
    "cert",
    "cert_file",
    "cert_ref",
    "key",
    "key_file",
    "key_ref",
    "server_name",
    "insecure_skip_verify",
    "min_version",
    "max_version",
];

/// Strict keys of a nested settings block (`http_config`, `tls_config`, ...).
fn check_keys(v: Option<&Json>, section: &str, known: &[&str]) -> Result<(), ConfigError> {
    if let Some(Json::Object(o)) = v {
        if let Some(k) = o.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ConfigError::UnknownField {
                field: k.clone(),
                section: section.to_string(),
            });
        }
    }
    Ok(())
}

/// prometheus/common's `HTTPClientConfig`: strict keys and `Validate`'s exclusivity rules.
fn check_http_config(m: &Map<String, Json>) -> Result<(), ConfigError> {
    check_keys(m.get("tls_config"), "tls_config", TLS_CONFIG_KEYS)?;
    let h = m.get("http_config");
    check_keys(h, "http_config", HTTP_CONFIG_KEYS)?;
    if let Some(h) = h {
        check_keys(h.get("basic_auth"), "basic_auth", BASIC_AUTH_KEYS)?;
        check_keys(h.get("authorization"), "authorization", AUTHORIZATION_KEYS)?;
        check_keys(h.get("tls_config"), "tls_config", TLS_CONFIG_KEYS)?;
    }
    let invalid =
        |msg: String| -> Result<(), ConfigError> { Err(IntegrationError::Invalid(msg).into()) };
    if let Some(h) = m.get("http_config").and_then(Json::as_object) {
        let set = |k: &str| {
            h.get(k)
                .is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
        };
        if set("bearer_token") && set("bearer_token_file") {
            return invalid(
                "at most one of bearer_token & bearer_token_file must be configured".into(),
            );
        }
        if (set("basic_auth") || set("oauth2")) && (set("bearer_token") || set("bearer_token_file"))
        {
            return invalid("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured".into());
        }
        if let Some(b) = h.get("basic_auth").and_then(Json::as_object) {
            let bset = |k: &str| {
                b.get(k)
                    .and_then(Json::as_str)
                    .is_some_and(|s| !s.is_empty())
            };
            if bset("password") && bset("password_file") {
                return invalid(
                    "at most one of basic_auth password & password_file must be configured".into(),
                );
            }
        }
        if set("authorization") {
            if set("bearer_token") || set("bearer_token_file") {
                return invalid("at most one of bearer_token, bearer_token_file & authorization must be configured".into());
            }
            if set("basic_auth") || set("oauth2") {
                return invalid(
                    "at most one of basic_auth, oauth2 & authorization must be configured".into(),
                );
            }
        }
    }
    Ok(())
}

/// Go's `%v` of an OpsGenie responder struct: `{id name username type}`.
fn responder_text(r: &Json) -> String {
    let f = |k: &str| r.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    format!(
        "{{{} {} {} {}}}",
        f("id"),
        f("name"),
        f("username"),
        f("type")
    )
}

/// `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`.
fn canonical_header(h: &str) -> String {
    if h.contains(|c: char| c == ' ' || !c.is_ascii()) {
        return h.to_string();
    }
    let mut up = true;
    h.chars()
        .map(|c| {
            let o = if up {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            up = c == '-';
            o
        })
        .collect()
}

/// Alertmanager's URL fields: an `http` or `https` URL with a host.
pub(crate) fn check_url(u: &str) -> Result<(), ConfigError> {
    let bad =
        |msg: String| -> Result<(), ConfigError> { Err(IntegrationError::Invalid(msg).into()) };
    // Go's url.Parse: a scheme is a leading [A-Za-z][A-Za-z0-9+.-]* followed by ':'.
    let scheme = match u.split_once(':') {
        Some((s, _))
            if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            s.to_ascii_lowercase()
        }
        _ => String::new(),
    };
    if scheme != "http" && scheme != "https" {
        return bad(format!("unsupported scheme {scheme:?} for URL"));
    }
    let rest = &u[scheme.len() + 1..];
    let host = rest
        .strip_prefix("//")
        .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""))
        .map(|a| a.rsplit_once('@').map_or(a, |(_, h)| h))
        .unwrap_or("");
    if host.is_empty() {
        return bad("missing host for URL".into());
    }
    Ok(())
}

/// `host:port` as Go's `net.SplitHostPort` wants it (the email smarthost).
fn check_host_port(h: &str) -> Result<(), ConfigError> {
    if h.is_empty() {
        return Ok(());
    }
    let bad = |why: &str| -> Result<(), ConfigError> {
        Err(IntegrationError::Invalid(format!("address {h}: {why}")).into())
    };
    let port = if let Some(r) = h.strip_prefix('[') {
        match r.split_once(']') {
            Some((_, p)) => match p.strip_prefix(':') {
                Some(port) => port,
                None => return bad("missing port in address"),
            },
            None => return bad("missing ']' in address"),
        }
    } else {
        match h.rsplit_once(':') {
            None => return bad("missing port in address"),
            Some((host, _)) if host.contains(':') => return bad("too many colons in address"),
            Some((_, p)) => p,
        }
    };
    if port.is_empty() {
        return Err(
            IntegrationError::Invalid(format!("address {h:?}: port cannot be empty")).into(),
        );
    }
    Ok(())
}

/// Checks Go's `time.ParseDuration` syntax (`1h30m`, `1.5s`, `300ms`), with Go's messages.
fn go_duration(s: &str) -> Result<(), String> {
    let invalid = || format!("time: invalid duration {s:?}");
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body == "0" {
        return Ok(());
    }
    if body.is_empty() {
        return Err(invalid());
    }
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let mut digits = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
                digits += 1;
            }
        }
        if digits == 0 || i == start {
            return Err(invalid());
        }
        let u0 = i;
        while i < b.len() && b[i] != b'.' && !b[i].is_ascii_digit() {
            i += 1;
        }
        let unit = &body[u0..i];
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {s:?}"));
        }
        if !["ns", "us", "µs", "μs", "ms", "s", "m", "h"].contains(&unit) {
            return Err(format!("time: unknown unit {unit:?} in duration {s:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod duration_tests {
    #[test]
    fn go_durations() {
        use super::go_duration;
        for ok in ["0", "1m", "1.5h", "300ms", "-2h45m", "1h1m1s"] {
            assert!(go_duration(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            go_duration("1x").unwrap_err(),
            r#"time: unknown unit "x" in duration "1x""#
        );
        assert_eq!(
            go_duration("30").unwrap_err(),
            r#"time: missing unit in duration "30""#
        );
        assert_eq!(
            go_duration("abc").unwrap_err(),
            r#"time: invalid duration "abc""#
        );
        assert_eq!(go_duration("").unwrap_err(), r#"time: invalid duration """#);
    }
}
