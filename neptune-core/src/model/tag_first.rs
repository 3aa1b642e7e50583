//! Decoding of an internally tagged enum that reads the tag first when it comes first.
//!
//! serde's derived decoding of `#[serde(tag = "…")]` cannot know where the tag is, so it reads
//! every object into an in-memory tree first and decodes the variant from that tree: for a
//! batch of series points this costs more than all the rest the server does with a point. Our
//! encoder always writes the tag first, so [`deserialize`] reads the first key; when it is the
//! tag, it hands the rest of the object, as it comes, to the derived decoder of the same enum
//! declared externally tagged ([`Tagged::by_tag`], a `#[serde(remote)]` definition). When the tag
//! is not first (a hand-written body), the object is gathered into JSON values, as the derived
//! decoding would, and read the same way. Both paths accept what the derived decoding accepts,
//! and refuse what it refuses: a second tag is an error, unknown keys are ignored.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{BorrowedStrDeserializer, MapDeserializer, StringDeserializer};
use serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess,
    Visitor,
};
use serde::{Deserialize, Deserializer};

/// An internally tagged enum with a decoder for its variants once the tag is known.
pub(crate) trait Tagged: Sized {
    /// The tag's key.
    const TAG: &'static str;
    /// What an input should be, for error messages.
    const EXPECTING: &'static str;
    /// The derived decoder of the externally tagged form, driven by [`TagFirst`].
    fn by_tag<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// Decodes `T` from a map whose tag may come first, or from a sequence whose first element is
/// the tag (the other form serde's derived decoding accepts).
pub(crate) fn deserialize<'de, T: Tagged, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(TaggedVisitor(PhantomData))
}

struct TaggedVisitor<T>(PhantomData<T>);

impl<'de, T: Tagged> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let Some(first) = map.next_key::<Key<'de>>()? else {
            return Err(de::Error::missing_field(T::TAG));
        };
        if first.0 == T::TAG {
            let tag = map.next_value::<Tag<'de>>()?;
            return T::by_tag(TagFirst {
                tag,
                rest: Rest::<_, Nothing<A::Error>>::Map(NoSecondTag::<_, T>(map, PhantomData)),
            });
        }
        // The tag is elsewhere: gather the object, keeping every entry (a repeated key stays
        // an error of the variant's decoder) and refusing a second tag.
        let mut tag = None;
        let mut entries = Vec::new();
        let mut key = Some(first);
        while let Some(k) = key {
            if k.0 == T::TAG {
                if tag.is_some() {
                    return Err(de::Error::duplicate_field(T::TAG));
                }
                tag = Some(map.next_value::<Tag<'de>>()?);
            } else {
                entries.push((k.0.into_owned(), map.next_value::<serde_json::Value>()?));
            }
            key = map.next_key::<Key<'de>>()?;
        }
        let tag = tag.ok_or_else(|| de::Error::missing_field(T::TAG))?;
        let rest = MapDeserializer::<_, serde_json::Error>::new(entries.into_iter());
        T::by_tag(TagFirst {
            tag,
            rest: Rest::<_, Nothing<serde_json::Error>>::Map(NoSecondTag::<_, T>(
                rest,
                PhantomData,
            )),
        })
        .map_err(de::Error::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        let tag = seq
            .next_element::<Tag<'de>>()?
            .ok_or_else(|| de::Error::missing_field(T::TAG))?;
        T::by_tag(TagFirst {
            tag,
            rest: Rest::<Nothing<A::Error>, A>::Seq(seq),
        })
    }
}

/// A key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de, E: de::Error> IntoDeserializer<'de, E> for Key<'de> {
    type Deserializer = StrOrString<'de, E>;
    fn into_deserializer(self) -> StrOrString<'de, E> {
        match self.0 {
            Cow::Borrowed(s) => StrOrString::Borrowed(BorrowedStrDeserializer::new(s)),
            Cow::Owned(s) => StrOrString::Owned(s.into_deserializer()),
        }
    }
}

/// The tag's value: a variant name, or a variant index where a format gives one.
enum Tag<'de> {
    Name(Key<'de>),
    Index(u64),
}

impl<'de> Deserialize<'de> for Tag<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tag<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("variant identifier")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tag<'de>, E> {
                Ok(Tag::Index(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Tag<'de>, E> {
                Ok(Tag::Name(Key(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Tag<'de>, E> {
                Ok(Tag::Name(Key(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Tag<'de>, E> {
                Ok(Tag::Name(Key(Cow::Owned(v))))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A string deserializer over a borrowed or an owned key.
enum StrOrString<'de, E> {
    Borrowed(BorrowedStrDeserializer<'de, E>),
    Owned(StringDeserializer<E>),
}

impl<'de, E: de::Error> Deserializer<'de> for StrOrString<'de, E> {
    type Error = E;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, E> {
        match self {
            StrOrString::Borrowed(d) => d.deserialize_any(v),
            StrOrString::Owned(d) => d.deserialize_any(v),
        }
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// The rest of the map after the tag; a second tag is refused, as the derived decoding does.
struct NoSecondTag<A, T>(A, PhantomData<T>);

impl<'de, A: MapAccess<'de>, T: Tagged> MapAccess<'de> for NoSecondTag<A, T> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.0.next_key::<Key<'de>>()? {
            None => Ok(None),
            Some(k) if k.0 == T::TAG => Err(de::Error::duplicate_field(T::TAG)),
            Some(k) => seed.deserialize(k.into_deserializer()).map(Some),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// What follows the tag: the rest of a map, or of a sequence.
enum Rest<M, S> {
    Map(M),
    Seq(S),
}

/// The side of [`Rest`] that is not there.
struct Nothing<E>(PhantomData<E>);

impl<'de, E: de::Error> MapAccess<'de> for Nothing<E> {
    type Error = E;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, _: K) -> Result<Option<K::Value>, E> {
        Ok(None)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, _: V) -> Result<V::Value, E> {
        Err(de::Error::custom("no value"))
    }
}

impl<'de, E: de::Error> SeqAccess<'de> for Nothing<E> {
    type Error = E;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, _: T) -> Result<Option<T::Value>, E> {
        Ok(None)
    }
}

/// A deserializer that presents a known tag and the rest of the input as an externally tagged
/// struct variant.
struct TagFirst<'de, M, S> {
    tag: Tag<'de>,
    rest: Rest<M, S>,
}

impl<'de, M, S> Deserializer<'de> for TagFirst<'de, M, S>
where
    M: MapAccess<'de>,
    S: SeqAccess<'de, Error = M::Error>,
{
    type Error = M::Error;

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, M::Error> {
        visitor.visit_enum(self)
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, M::Error> {
        Err(de::Error::custom(
            "a tagged enum is decoded only as an enum",
        ))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

impl<'de, M, S> EnumAccess<'de> for TagFirst<'de, M, S>
where
    M: MapAccess<'de>,
    S: SeqAccess<'de, Error = M::Error>,
{
    type Error = M::Error;
    type Variant = Rest<M, S>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Rest<M, S>), M::Error> {
        let variant = match self.tag {
            Tag::Name(k) => seed.deserialize(k.into_deserializer())?,
            Tag::Index(i) => seed.deserialize(i.into_deserializer())?,
        };
        Ok((variant, self.rest))
    }
}

impl<'de, M, S> VariantAccess<'de> for Rest<M, S>
where
    M: MapAccess<'de>,
    S: SeqAccess<'de, Error = M::Error>,
{
    type Error = M::Error;

    fn unit_variant(self) -> Result<(), M::Error> {
        Err(de::Error::invalid_type(
            de::Unexpected::StructVariant,
            &"a unit variant",
        ))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, M::Error> {
        Err(de::Error::invalid_type(
            de::Unexpected::StructVariant,
            &"a newtype variant",
        ))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _v: V) -> Result<V::Value, M::Error> {
        Err(de::Error::invalid_type(
            de::Unexpected::StructVariant,
            &"a tuple variant",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, M::Error> {
        match self {
            Rest::Map(m) => visitor.visit_map(m),
            Rest::Seq(s) => visitor.visit_seq(s),
        }
    }
}
