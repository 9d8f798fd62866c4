//! The `expect` object: per finding class, `"none"` or `"some"`. A class name that is not one is
//! refused with the closest class, so a typo cannot quietly leave a promise unjudged.

use super::obj::{Obj, Result};
use crate::finding::FindingClass;
use crate::scenario::{Expect, Expectation};

const EXPECTATIONS: [(&str, Expectation); 2] = [("none", Expectation::None), ("some", Expectation::Some)];

pub(super) fn expect(top: &Obj) -> Result<Expect> {
    let classes = FindingClass::ALL.map(FindingClass::as_str);
    let o = top.child("expect")?.check_keys(&classes, |_| None)?;
    let mut expect = Expect::new();
    for class in FindingClass::ALL {
        if let Some(want) = o.opt_choice(class.as_str(), &EXPECTATIONS)? {
            expect.insert(class, want);
        }
    }
    Ok(expect)
}
