//! Malformed input never panics: random and mutated matcher strings and configs either parse
//! or return an error (the same properties the fuzz targets `am_matchers` and `am_config`
//! check, run here under plain `cargo test`).

use alertroute::matchers::{
    matchers_to_string, parse_matchers, parse_matchers_classic, parse_matchers_utf8,
};
use alertroute::Config;
use proptest::prelude::*;

const SEED_CONFIG: &str = r#"
global: {resolve_timeout: 5m}
route:
  receiver: a
  group_by: [alertname]
  routes:
    - matchers: ['x=~"a|b"', y!=z]
      match: {k: 1}
      match_re: {r: '^x$'}
      continue: true
      mute_time_intervals: [t]
receivers: [{name: a, webhook_configs: [{url: 'http://x'}]}]
inhibit_rules: [{source_matchers: [a=b], target_matchers: [c=d], equal: [e]}]
time_intervals:
  - name: t
    time_intervals: [{times: [{start_time: '09:00', end_time: '17:00'}], weekdays: ['monday:friday'], days_of_month: ['-3:-1'], months: [may], years: ['2024:2030'], location: Europe/Berlin}]
"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn matcher_parsers_never_panic(s in r#"[{}a-z_=!~,"\\ .*|()\[\]é0-9\n]{0,40}"#) {
        let _ = parse_matchers_utf8(&s);
        let _ = parse_matchers_classic(&s);
        if let Ok(ms) = parse_matchers(&s) {
            let printed = matchers_to_string(&ms);
            if let Ok(again) = parse_matchers_utf8(&printed) {
                prop_assert_eq!(again, ms);
            }
        }
    }

    #[test]
    fn config_loader_never_panics_on_mutations(pos in 0usize..2000, len in 0usize..8, junk in "[ :\\-\\[\\]{}a-z0-9'\"~\n]{0,6}") {
        let base = SEED_CONFIG;
        let p = pos % base.len();
        let end = (p + len).min(base.len());
        if base.is_char_boundary(p) && base.is_char_boundary(end) {
            let mutated = format!("{}{}{}", &base[..p], junk, &base[end..]);
            let _ = Config::load(&mutated);
        }
    }
}

#[test]
fn seed_config_loads() {
    let cfg = Config::load(SEED_CONFIG).unwrap();
    assert_eq!(cfg.route.len(), 2);
    assert_eq!(cfg.inhibit_rules.len(), 1);
}
