use super::*;
use exposition::Labels;

fn err(yaml: &str) -> String {
    Config::load(yaml).unwrap_err().to_string()
}

fn err_legacy(yaml: &str) -> String {
    Config::load_with(yaml, NameValidation::Legacy)
        .unwrap_err()
        .to_string()
}

const RX: &str = "receivers: [{name: a}, {name: b}]\n";

#[test]
fn inline_errors_of_upstream_config_tests() {
    assert_eq!(err(""), "no route provided in config");
    assert_eq!(err("# only a comment\n"), "no route provided in config");
    assert_eq!(err(RX), "no routes provided");
    assert_eq!(
        err(&format!("route: {{group_wait: 1s}}\n{RX}")),
        "root route must specify a default receiver"
    );
    assert_eq!(
        err("route: {receiver: a}\nreceivers: [{name: a}, {name: a}]"),
        r#"notification config name "a" is not unique"#
    );
    assert_eq!(
        err("route: {receiver: a, routes: [{routes: [{receiver: team-X}]}]}\nreceivers: [{name: a}]"),
        r#"undefined receiver "team-X" used in route"#
    );
    assert_eq!(
        err("route: {receiver: a}\nreceivers: [{webhook_configs: [{url: 'http://x'}]}]"),
        "missing name in receiver"
    );
    assert_eq!(
        err(&format!(
            "route: {{receiver: a, routes: [{{mute_time_intervals: [business_hours]}}]}}\n{RX}"
        )),
        r#"undefined time interval "business_hours" used in route"#
    );
    assert_eq!(
        err(&format!(
            "route: {{receiver: a, routes: [{{active_time_intervals: [business_hours]}}]}}\n{RX}"
        )),
        r#"undefined time interval "business_hours" used in route"#
    );
    assert_eq!(
        err(&format!(
            "route: {{receiver: a}}\ntime_intervals: [{{time_intervals: []}}]\n{RX}"
        )),
        "missing name in time interval"
    );
    assert_eq!(
        err(&format!(
            "route: {{receiver: a}}\ntime_intervals: [{{name: t}}]\nmute_time_intervals: [{{name: t}}]\n{RX}"
        )),
        r#"time interval "t" is not unique"#
    );
    assert_eq!(
        err(&format!("route: {{receiver: a}}\nmute_time_intervals: [{{name: duplicate}}, {{name: duplicate}}]\n{RX}")),
        r#"mute time interval "duplicate" is not unique"#
    );
    assert_eq!(
        err(&format!(
            "route: {{receiver: a, group_by: [cluster, cluster]}}\n{RX}"
        )),
        r#"duplicated label "cluster" in group_by"#
    );
    assert_eq!(
        err(&format!(
            "route: {{receiver: a, group_by: ['...', x]}}\n{RX}"
        )),
        "cannot have wildcard group_by (`...`) and other labels at the same time"
    );
    assert_eq!(
        err_legacy(&format!(
            "route: {{receiver: a, group_by: ['-invalid-']}}\n{RX}"
        )),
        r#"invalid label name "-invalid-" in group_by list"#
    );
    // The default (fallback) mode accepts any UTF-8 name.
    assert!(Config::load(&format!(
        "route: {{receiver: a, group_by: ['foo-bar']}}\n{RX}"
    ))
    .is_ok());
    assert_eq!(
        err(&format!(
            "route: {{receiver: a, mute_time_intervals: [t]}}\ntime_intervals: [{{name: t}}]\n{RX}"
        )),
        "root route must not have any mute time intervals"
    );
    assert_eq!(
        err(&format!("route: {{receiver: a, active_time_intervals: [t]}}\ntime_intervals: [{{name: t}}]\n{RX}")),
        "root route must not have any active time intervals"
    );
    assert_eq!(
        err(&format!("route: {{receiver: a, matchers: ['a=b']}}\n{RX}")),
        "root route must not have any matchers"
    );
    assert_eq!(
        err(&format!("route: {{receiver: a, match: {{a: b}}}}\n{RX}")),
        "root route must not have any matchers"
    );
    assert_eq!(
        err(&format!("route: {{receiver: a, continue: true}}\n{RX}")),
        "cannot have continue in root route"
    );
    assert_eq!(
        err(&format!("route: {{receiver: a, group_interval: 0s}}\n{RX}")),
        "group_interval cannot be zero"
    );
    assert_eq!(
        err(&format!(
            "route: {{receiver: a, repeat_interval: 0s}}\n{RX}"
        )),
        "repeat_interval cannot be zero"
    );
    assert_eq!(
        err("route: {receiver: a}\nreceivers: [{name: a, webhook_configs: [~]}]"),
        "missing webhook config"
    );
    assert_eq!(
        err("route: {receiver: a}\nreceivers: [{name: a, email_configs: [~]}]"),
        "missing email config"
    );
}

#[test]
fn matcher_duration_and_field_errors() {
    assert_eq!(
        err(&format!(
            "route: {{receiver: a, routes: [{{matchers: ['foo']}}]}}\n{RX}"
        )),
        "route matchers: bad matcher format: foo"
    );
    assert_eq!(
        err(&format!(
            "route: {{receiver: a, routes: [{{matchers: ['a=\"a\"b\"']}}]}}\n{RX}"
        )),
        r#"route matchers: matcher value contains unescaped double quote: "a"b""#
    );
    assert_eq!(
        err(&format!("route: {{receiver: a, group_wait: 1.5m}}\n{RX}")),
        r#"group_wait: not a valid duration string: "1.5m""#
    );
    assert_eq!(
        err(&format!(
            "route: {{receiver: a, routes: [{{match: {{foo-bar: x}}}}]}}\n{RX}"
        )),
        r#"invalid label name "foo-bar""#
    );
    let e = Config::load(&format!("route: {{receiver: a, recevier: b}}\n{RX}")).unwrap_err();
    assert!(
        matches!(e, ConfigError::Yaml { line: Some(1), .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("unknown field `recevier`"), "{e}");
    assert_eq!(
        err(&format!(
            "global: {{smtp_foo: 1}}\nroute: {{receiver: a}}\n{RX}"
        )),
        "field smtp_foo not found in global"
    );
    assert_eq!(
        err("route: {receiver: a}\nreceivers: [{name: a, webhook_configs: [{url: 'http://x', urll: y}]}]"),
        "field urll not found in webhook_config"
    );
    assert_eq!(
        err("global: {smtp_smarthost: 'm:25', smtp_from: a@b}\nroute: {receiver: a}\nreceivers: [{name: a, email_configs: [{to: x@y, smtp_host: z}]}]"),
        "field smtp_host not found in email_config"
    );
    assert_eq!(
        err("route: {receiver: a}\nreceivers: [{name: a, webhook_configs: [{max_alerts: 1}]}]"),
        "one of url or url_file must be configured"
    );
    let e = err(&format!(
        "route: {{receiver: a}}\ntime_intervals: [{{name: t, time_intervals: [{{times: [{{start_time: '9:00', end_time: '10:00'}}]}}]}}]\n{RX}"
    ));
    assert_eq!(
        e,
        r#"time interval "t": couldn't parse timestamp 9:00, invalid format"#
    );
    let e = err(&format!(
        "route: {{receiver: a}}\ntime_intervals: [{{name: t, time_intervals: [{{location: Mars/Olympus}}]}}]\n{RX}"
    ));
    assert_eq!(e, r#"time interval "t": unknown time zone Mars/Olympus"#);
    assert_eq!(
        err("BAD"),
        r#"yaml: invalid type: string "BAD", expected config"#
    );
}

#[test]
fn defaults_and_inheritance() {
    let cfg = Config::load(
        r#"
route:
  receiver: a
  group_by: [alertname]
  group_wait: 10s
  routes:
    - matchers: ['x="1"']
      group_interval: 1m
      mute_time_intervals: [night]
      labels: {team: x}
      routes:
        - matchers: ['y="1"']
          receiver: b
          group_by: ['...']
          labels: {tier: "1"}
        - matchers: ['y="2"']
          group_by: []
          repeat_interval: 1h
time_intervals:
  - name: night
    time_intervals: [{times: [{start_time: "00:00", end_time: "06:00"}]}]
receivers: [{name: a}, {name: b}]
"#,
    )
    .unwrap();
    let t = &cfg.route;
    assert_eq!(t.len(), 4);
    let root = t.root();
    assert_eq!(root.key, "{}");
    assert_eq!(
        (
            root.group_wait_ms,
            root.group_interval_ms,
            root.repeat_interval_ms
        ),
        (10_000, 300_000, 14_400_000)
    );
    assert_eq!(cfg.resolve_timeout_ms, DEFAULT_RESOLVE_TIMEOUT_MS);
    let x = t.get(RouteId(1)).unwrap();
    assert_eq!(x.receiver, "a");
    assert_eq!(x.group_by, GroupBy::Labels(vec!["alertname".into()]));
    assert_eq!((x.group_wait_ms, x.group_interval_ms), (10_000, 60_000));
    assert_eq!(x.key, r#"{}/{x="1"}"#);
    assert_eq!(x.mute_time_intervals, vec!["night".to_string()]);
    let y1 = t.get(RouteId(2)).unwrap();
    assert_eq!(y1.receiver, "b");
    assert_eq!(y1.group_by, GroupBy::All);
    assert_eq!(y1.group_interval_ms, 60_000);
    assert!(
        y1.mute_time_intervals.is_empty(),
        "time intervals are not inherited"
    );
    assert_eq!(y1.key, r#"{}/{x="1"}/{y="1"}"#);
    assert_eq!(y1.labels.get("team").map(String::as_str), Some("x"));
    assert_eq!(y1.labels.get("tier").map(String::as_str), Some("1"));
    let y2 = t.get(RouteId(3)).unwrap();
    assert_eq!(
        y2.group_by,
        GroupBy::Labels(vec![]),
        "explicit empty list is kept"
    );
    assert_eq!(y2.repeat_interval_ms, 3_600_000);
    assert!(cfg.time_intervals["night"].contains(3_600_000));
}

#[test]
fn legacy_match_uses_raw_scalar_text() {
    let cfg = Config::load(
        r#"
route:
  receiver: a
  routes:
    - {match: {code: 500}, receiver: b}
    - {match: {flag: yes}, receiver: b}
    - {match: {ratio: 1.50}, receiver: b}
    - {match: {octal: 0755}, receiver: b}
    - {match: {x: ~}, receiver: b}
    - {match_re: {service: ^(foo1|foo2|baz)$}, receiver: b}
    - {match_re: {env: 'dev|staging|'}, receiver: b}
receivers: [{name: a}, {name: b}]
"#,
    )
    .unwrap();
    let vals: Vec<String> = cfg
        .route
        .iter()
        .skip(1)
        .map(|r| r.matchers[0].value().to_string())
        .collect();
    assert_eq!(
        vals,
        [
            "500",
            "yes",
            "1.50",
            "0755",
            "",
            "^(?:^(foo1|foo2|baz)$)$",
            "^(?:dev|staging|)$"
        ]
    );
    assert_eq!(
        cfg.route.get(RouteId(6)).unwrap().key,
        r#"{}/{service=~"^(?:^(foo1|foo2|baz)$)$"}"#
    );
    // `x: ~` matches alerts without x; the empty-matching regex matches alerts without env.
    let l = Labels::from_pairs(&[("code", "200")]);
    assert_eq!(cfg.route.route(&l)[0].id, RouteId(5));
    let e = err(
        "route: {receiver: a, routes: [{match_re: {invalid_label: }}]}\nreceivers: [{name: a}]",
    );
    assert_eq!(e, r#"invalid regexp value for "invalid_label""#);
}

#[test]
fn matchers_are_sorted_by_name_value_op() {
    let cfg = Config::load(
        r#"
route:
  receiver: a
  routes:
    - matchers: ['b="2"', 'a!="1"', 'a="1"']
      match: {c: "3"}
receivers: [{name: a}]
"#,
    )
    .unwrap();
    assert_eq!(
        cfg.route.get(RouteId(1)).unwrap().key,
        r#"{}/{a="1",a!="1",b="2",c="3"}"#
    );
}

#[test]
fn receivers_keep_settings_with_global_defaults() {
    let cfg = Config::load(
        r#"
global:
  resolve_timeout: 1m
  slack_api_url: https://hooks.example/slack
  smtp_smarthost: mail:25
  smtp_from: am@example.org
route: {receiver: team}
receivers:
  - name: team
    webhook_configs:
      - url: http://hook/1
        max_alerts: 5
      - url: http://hook/2
        send_resolved: false
    slack_configs: [{channel: '#x'}]
    email_configs: [{to: a@example.org}]
"#,
    )
    .unwrap();
    assert_eq!(cfg.resolve_timeout_ms, 60_000);
    let r = cfg.receiver("team").unwrap();
    let kinds: Vec<(&str, usize, bool)> = r
        .integrations
        .iter()
        .map(|i| (i.kind, i.index, i.send_resolved))
        .collect();
    assert_eq!(
        kinds,
        [
            ("webhook", 0, true),
            ("webhook", 1, false),
            ("slack", 0, false),
            ("email", 0, false)
        ]
    );
    assert_eq!(r.integrations[0].url(), Some("http://hook/1"));
    assert_eq!(r.integrations[0].max_alerts(), 5);
    assert_eq!(
        r.integrations[2].settings["api_url"],
        "https://hooks.example/slack"
    );
    assert_eq!(r.integrations[3].settings["smarthost"], "mail:25");
    assert_eq!(
        err("route: {receiver: a}\nreceivers: [{name: a, email_configs: [{to: x@y}]}]"),
        "no global SMTP smarthost set"
    );
}

#[test]
fn templates_names_are_kept() {
    let cfg =
        Config::load("templates: ['/etc/am/*.tmpl']\nroute: {receiver: a}\nreceivers: [{name: a}]")
            .unwrap();
    assert_eq!(cfg.templates, vec!["/etc/am/*.tmpl".to_string()]);
}

#[test]
fn continue_and_send_resolved_take_yaml_1_1_booleans() {
    // Go's YAML decoder reads plain yes/no/on/off as booleans (amtool 0.25 accepts them).
    let cfg = Config::load(
        "route:\n  receiver: a\n  routes:\n    - {receiver: a, continue: yes}\n    - {receiver: a, continue: Off}\n\
         receivers: [{name: a, webhook_configs: [{url: 'http://h/', send_resolved: no}]}]",
    )
    .unwrap();
    let root = cfg.route.root();
    let kids: Vec<bool> = root
        .children
        .iter()
        .map(|&c| cfg.route.get(c).unwrap().continue_matching)
        .collect();
    assert_eq!(kids, [true, false]);
    assert!(!cfg.receivers[0].integrations[0].send_resolved);
    assert!(
        err("route: {receiver: a, routes: [{continue: maybe}]}\nreceivers: [{name: a}]")
            .contains("cannot unmarshal !!str `maybe` into bool")
    );
}

#[test]
fn integration_requirements_found_by_amtool_diff() {
    let recv = |body: &str| {
        err(&format!(
            "route: {{receiver: a}}\nreceivers: [{{name: a, {body}}}]"
        ))
    };
    assert_eq!(
        recv("telegram_configs: [{bot_token: t}]"),
        "missing chat_id on telegram_config"
    );
    assert_eq!(
        recv("webex_configs: [{room_id: r}]"),
        "missing webex_configs.http_config.authorization"
    );
    assert_eq!(
        recv("wechat_configs: [{api_secret: s}]"),
        "no global Wechat CorpID set"
    );
    for (kind, ok) in [
        (
            "slack_configs: [{api_url: 'http://s/', foo: 1}]",
            "slack_config",
        ),
        (
            "pushover_configs: [{user_key: u, token: t, foo: 1}]",
            "pushover_config",
        ),
        (
            "discord_configs: [{webhook_url: 'http://d/', foo: 1}]",
            "discord_config",
        ),
        ("sns_configs: [{topic_arn: t, foo: 1}]", "sns_config"),
    ] {
        let e = recv(kind);
        assert!(e.contains("foo") && e.contains(ok), "{kind}: {e}");
    }
    Config::load(
        "global: {wechat_api_corp_id: c, wechat_api_secret: s}\nroute: {receiver: a}\n\
         receivers: [{name: a, wechat_configs: [{to_user: '@all'}], telegram_configs: [{bot_token: t, chat_id: 5}],\n\
         webex_configs: [{room_id: r, http_config: {authorization: {credentials: x}}}]}]",
    )
    .unwrap();
}

#[test]
fn url_and_host_port_fields_are_checked_like_alertmanager() {
    use super::receivers::check_url;
    assert!(check_url("http://h/x").is_ok() && check_url("HTTPS://u:p@h:1").is_ok());
    for (u, msg) in [
        ("not a url", r#"unsupported scheme "" for URL"#),
        ("ftp://h/", r#"unsupported scheme "ftp" for URL"#),
        (
            "localhost:8080",
            r#"unsupported scheme "localhost" for URL"#,
        ),
        ("http:///x", "missing host for URL"),
        ("http:x", "missing host for URL"),
    ] {
        assert_eq!(check_url(u).unwrap_err().to_string(), msg, "{u}");
    }
    let recv = |body: &str| {
        err(&format!(
            "route: {{receiver: a}}\nreceivers: [{{name: a, {body}}}]"
        ))
    };
    assert_eq!(
        recv("email_configs: [{to: x@y, from: a@b, smarthost: localhost}]"),
        "address localhost: missing port in address"
    );
    assert_eq!(
        recv("email_configs: [{to: x@y, from: a@b, smarthost: 'h:'}]"),
        r#"address "h:": port cannot be empty"#
    );
    assert_eq!(
        recv("sns_configs: [{topic_arn: t, phone_number: p}]"),
        "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"
    );
    // All three set passes Alertmanager's chained comparison.
    Config::load(
        "route: {receiver: a}\nreceivers: [{name: a, sns_configs: [{topic_arn: t, phone_number: p, target_arn: x}]}]",
    )
    .unwrap();
    // Pushover's `url` is a link shown in the message, not an endpoint.
    Config::load(
        "route: {receiver: a}\nreceivers: [{name: a, pushover_configs: [{user_key: u, token: t, url: 'see runbook'}]}]",
    )
    .unwrap();
}

#[test]
fn wildcard_group_by_may_repeat() {
    Config::load("route: {receiver: a, group_by: ['...', '...']}\nreceivers: [{name: a}]").unwrap();
    assert_eq!(
        err("route: {receiver: a, group_by: ['...', a, a]}\nreceivers: [{name: a}]"),
        "cannot have wildcard group_by (`...`) and other labels at the same time"
    );
}

#[test]
fn null_list_entries_are_empty_strings_and_bools_are_typed() {
    // `[~]` decodes to [""] in Go: an empty group_by name is invalid, an empty matcher
    // string means no matchers.
    assert_eq!(
        err("route: {receiver: a, group_by: [~]}\nreceivers: [{name: a}]"),
        r#"invalid label name "" in group_by list"#
    );
    let cfg = Config::load(
        "route: {receiver: a, routes: [{matchers: ['a=\"1\"', ~, '']}]}\nreceivers: [{name: a}]",
    )
    .unwrap();
    assert_eq!(cfg.route.iter().nth(1).unwrap().matchers.len(), 1);
    assert!(
        err("global: {smtp_require_tls: maybe}\nroute: {receiver: a}\nreceivers: [{name: a}]")
            .contains("cannot unmarshal !!str `maybe` into bool")
    );
    assert!(err(
        "global: {http_config: {bearer_token: a, bearer_token_file: b}}\nroute: {receiver: a}\nreceivers: [{name: a}]"
    )
    .contains("at most one of bearer_token & bearer_token_file"));
    assert!(err("route: {receiver: a}\nreceivers: [{name: a, telegram_configs: [{bot_token: t, chat_id: abc}]}]")
        .contains("into int64"));
    let cfg = Config::load(
        "route: {receiver: a}\nreceivers: [{name: a, webhook_configs: [{url: 'http://x/', max_alerts: 1.5}]}]",
    )
    .unwrap();
    assert_eq!(cfg.receivers[0].integrations[0].max_alerts(), 1);
}

#[test]
fn http_and_tls_config_keys_are_strict() {
    let recv = |body: &str| {
        err(&format!(
            "route: {{receiver: a}}\nreceivers: [{{name: a, {body}}}]"
        ))
    };
    assert!(recv("webhook_configs: [{url: 'http://x/', http_config: {foo: 1}}]").contains("foo"));
    assert!(
        recv("webhook_configs: [{url: 'http://x/', http_config: {basic_auth: {user: u}}}]")
            .contains("user")
    );
    assert!(
        recv("email_configs: [{to: x@y, from: a@b, smarthost: 'h:25', tls_config: {foo: 1}}]")
            .contains("foo")
    );
    Config::load(
        "route: {receiver: a}\nreceivers: [{name: a, webhook_configs: [{url: 'http://x/', http_config: \
         {basic_auth: {username: u, password_file: /p}, tls_config: {insecure_skip_verify: true}, follow_redirects: false}}]}]",
    )
    .unwrap();
}
