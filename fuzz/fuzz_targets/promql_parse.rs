//! Fuzz target `promql_parse`: the PromQL parser never panics or loops on any input, and every
//! tree it accepts prints to text that parses back to the same tree.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for opts in [promql::ParseOptions::default(), promql::ParseOptions::all()] {
        if let Ok(e) = promql::parse_with(s, opts) {
            let printed = promql::printer::print(&e);
            let again = promql::parse_with(&printed, opts)
                .unwrap_or_else(|err| panic!("printed form {printed:?} of {s:?} fails: {err}"));
            assert!(again.same_as(&e), "round trip changed {s:?} via {printed:?}");
        }
    }
});
