#![no_main]
//! alertmanager.yml loading: any input loads or returns a ConfigError, never panics; a
//! loaded config can route an alert and print its tree.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = alertroute::Config::load(s) {
        let l = exposition::Labels::from_pairs(&[("alertname", "x"), ("severity", "page")]);
        assert!(!cfg.route.route(&l).is_empty());
        let _ = cfg.route.show();
    }
});
