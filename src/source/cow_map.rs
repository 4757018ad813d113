//! A map that successive loads share: [`CowMap`] splits its entries into a fixed number of
//! shards by key hash, each behind an `Arc`. A clone copies the shard pointers, never an entry;
//! a change copies the one shard it falls in, and only while another version still shares it.
//! So the next desired state is the previous one with the changed files' entries replaced, at
//! a cost proportional to the change, while a reconcile still reads the previous one.
//!
//! Iteration is shard by shard (key order within a shard); [`CowMap::sorted_keys`] gives key
//! order.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

/// Shards of a map: at 20,000 keys about 80 keys each, so a change copies about 80 entries.
const SHARDS: usize = 256;

/// A copy-on-write map of sharded `BTreeMap`s (see the module's doc).
#[derive(Clone)]
pub struct CowMap<K, V> {
    shards: Vec<Arc<BTreeMap<K, V>>>,
    len: usize,
}

/// The fixed hasher that places keys in shards (the same in every process, so two maps of
/// the same keys are sharded alike and compare shard by shard).
fn shard_of<Q: Hash + ?Sized>(key: &Q) -> usize {
    let hash = std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default().hash_one(key);
    (hash % SHARDS as u64) as usize
}

impl<K, V> Default for CowMap<K, V> {
    fn default() -> Self {
        CowMap {
            shards: (0..SHARDS).map(|_| Arc::new(BTreeMap::new())).collect(),
            len: 0,
        }
    }
}

impl<K: Ord + Hash + Clone, V: Clone> CowMap<K, V> {
    /// The value of `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + Hash + ?Sized,
    {
        self.shards[shard_of(key)].get(key)
    }

    /// True when `key` has a value.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + Hash + ?Sized,
    {
        self.get(key).is_some()
    }

    /// Sets `key`'s value, returning the one it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let shard = Arc::make_mut(&mut self.shards[shard_of(&key)]);
        let old = shard.insert(key, value);
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// `key`'s value to change in place (its shard copied first if shared).
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + Hash + ?Sized,
    {
        self.shard_holding(key)?.get_mut(key)
    }

    /// Removes `key`, returning its value. A shard is copied only if it holds the key.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + Hash + ?Sized,
    {
        let old = self.shard_holding(key)?.remove(key);
        self.len -= 1;
        old
    }

    /// The shard of `key` to change, if it holds the key (copied first if shared).
    fn shard_holding<Q>(&mut self, key: &Q) -> Option<&mut BTreeMap<K, V>>
    where
        K: Borrow<Q>,
        Q: Ord + Hash + ?Sized,
    {
        let slot = &mut self.shards[shard_of(key)];
        if !slot.contains_key(key) {
            return None;
        }
        Some(Arc::make_mut(slot))
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every entry, shard by shard.
    pub fn iter<'a>(&'a self) -> Iter<'a, K, V> {
        let shard: ShardRef<'a, K, V> = shard_ref;
        self.shards.iter().flat_map(shard)
    }

    /// Every key, in key order.
    pub fn sorted_keys(&self) -> Vec<&K> {
        let mut keys: Vec<&K> = self.iter().map(|(k, _)| k).collect();
        keys.sort_unstable();
        keys
    }

    /// Pairs of same-placed shards of `self` and `other` (the same keys are in the same
    /// shard of both), for walks that compare two maps shard by shard.
    pub fn shard_pairs<'a>(
        &'a self,
        other: &'a CowMap<K, V>,
    ) -> impl Iterator<Item = (&'a BTreeMap<K, V>, &'a BTreeMap<K, V>)> {
        self.shards
            .iter()
            .zip(&other.shards)
            .map(|(a, b)| (a.as_ref(), b.as_ref()))
    }
}

/// The iterator of [`CowMap::iter`].
pub type Iter<'a, K, V> = std::iter::FlatMap<
    std::slice::Iter<'a, Arc<BTreeMap<K, V>>>,
    &'a BTreeMap<K, V>,
    ShardRef<'a, K, V>,
>;

/// A shard seen through its `Arc`.
type ShardRef<'a, K, V> = fn(&'a Arc<BTreeMap<K, V>>) -> &'a BTreeMap<K, V>;

fn shard_ref<K, V>(shard: &Arc<BTreeMap<K, V>>) -> &BTreeMap<K, V> {
    shard
}

impl<'a, K: Ord + Hash + Clone, V: Clone> IntoIterator for &'a CowMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K: Ord + Hash + Clone, V: Clone> FromIterator<(K, V)> for CowMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = CowMap::default();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<K: Ord + Hash + Clone, V: Clone + PartialEq> PartialEq for CowMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self
                .shard_pairs(other)
                .all(|(a, b)| std::ptr::eq(a, b) || a == b)
    }
}

impl<K: Ord + Hash + Clone, V: Clone + Eq> Eq for CowMap<K, V> {}

impl<K: Ord + Hash + Clone + std::fmt::Debug, V: Clone + std::fmt::Debug> std::fmt::Debug
    for CowMap<K, V>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sorted: BTreeMap<&K, &V> = self.iter().collect();
        f.debug_map().entries(sorted).finish()
    }
}

impl<K, V, Q> std::ops::Index<&Q> for CowMap<K, V>
where
    K: Ord + Hash + Clone + Borrow<Q>,
    V: Clone,
    Q: Ord + Hash + ?Sized,
{
    type Output = V;

    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry for the key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Through any sequence of inserts and removes, the map holds what a BTreeMap holds,
        /// and a clone taken on the way keeps what it held then.
        #[test]
        fn a_cow_map_is_a_map_and_its_clones_keep_their_version(
            ops in proptest::collection::vec((0u16..600, proptest::option::of(0u8..4)), 0..400),
            at in 0usize..400,
        ) {
            let mut map = CowMap::default();
            let mut model = BTreeMap::new();
            let mut kept = None;
            for (i, (k, v)) in ops.iter().enumerate() {
                if i == at {
                    kept = Some((map.clone(), model.clone()));
                }
                match v {
                    Some(v) => proptest::prop_assert_eq!(map.insert(*k, *v), model.insert(*k, *v)),
                    None => proptest::prop_assert_eq!(map.remove(k), model.remove(k)),
                }
            }
            let check = |map: &CowMap<u16, u8>, model: &BTreeMap<u16, u8>| {
                let all: BTreeMap<u16, u8> = map.iter().map(|(k, v)| (*k, *v)).collect();
                all == *model
                    && map.len() == model.len()
                    && map.sorted_keys().into_iter().eq(model.keys())
                    && model.iter().all(|(k, v)| map.get(k) == Some(v))
            };
            proptest::prop_assert!(check(&map, &model));
            if let Some((map, model)) = kept {
                proptest::prop_assert!(check(&map, &model));
            }
            let rebuilt: CowMap<u16, u8> = model.into_iter().collect();
            proptest::prop_assert_eq!(rebuilt, map);
        }
    }
}
