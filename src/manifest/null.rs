//! `null` where AWS's JSON writes it: a list or map member written `null` (`"command": null`,
//! `"secretOptions": null`, as `describe-task-definition` prints them) reads as empty, the same
//! as leaving it out. `Option` members take `null` as `None` by themselves.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use super::shorthand::PairList;

/// `deserialize_with` for list and map members: `null` is the empty value.
pub fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A list or map that is left out of the output when empty.
pub trait Empty {
    /// No items.
    fn is_empty(&self) -> bool;
}

impl<T> Empty for Vec<T> {
    fn is_empty(&self) -> bool {
        <[T]>::is_empty(self)
    }
}

impl<K, V> Empty for BTreeMap<K, V> {
    fn is_empty(&self) -> bool {
        BTreeMap::is_empty(self)
    }
}

impl<T> Empty for PairList<T> {
    fn is_empty(&self) -> bool {
        PairList::is_empty(self)
    }
}

/// `skip_serializing_if` for list and map members.
pub fn is_empty<T: Empty>(v: &T) -> bool {
    v.is_empty()
}
