// An invocation with no network in it.
lenet::network! {}

fn main() {}
