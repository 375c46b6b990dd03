//! Compile-time behaviour of `network!`: what must compile (`ui/pass`) and
//! every mistake it rejects, with its message (`ui/fail/*.stderr`).
//! Regenerate the messages with `TRYBUILD=overwrite cargo test --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
