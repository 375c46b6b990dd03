// Private and pub(crate) networks, in a module.
mod nets {
    lenet::network! {
        pub(crate) struct Visible {
            input: [1, 4, 4],
            flatten,
            fc: Linear(16, 2),
        }
    }

    lenet::network! {
        struct Hidden {
            input: [1, 4, 4],
            flatten,
            fc: Linear(16, 2),
        }
    }

    pub(crate) fn hidden_len() -> usize {
        Hidden::PARAM_COUNT
    }
}

fn main() {
    assert_eq!(nets::Visible::PARAM_COUNT, 34);
    assert_eq!(nets::hidden_len(), 34);
}
