#![no_main]
//! Alertmanager matcher syntax: both grammars and the fallback combination must return a
//! value or an error, never panic; a parsed list must print and re-parse to the same list.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = alertroute::matchers::parse_matchers_utf8(s);
    let _ = alertroute::matchers::parse_matchers_classic(s);
    let _ = alertroute::matchers::parse_matcher(s);
    if let Ok(ms) = alertroute::matchers::parse_matchers(s) {
        let printed = alertroute::matchers::matchers_to_string(&ms);
        if let Ok(again) = alertroute::matchers::parse_matchers_utf8(&printed) {
            assert_eq!(again.len(), ms.len(), "{printed}");
        }
    }
});
