::core::compile_error! {
    "#[derive(Loggable)] needs named fields, which name the field paths; a tuple struct has none. Use a struct with named fields"
}
///Typed handle of [`Tuple`], made by `#[derive(Loggable)]`: a handle per field. Get it with `object.bind::<Tuple>(path)`.
struct TupleHandle(
    ///Handle of the field `0` of the namespace.
    <f64 as ::neptune_core::__private::Loggable>::Handle,
    ::core::marker::PhantomData<()>,
);
impl ::core::clone::Clone for TupleHandle {
    fn clone(&self) -> Self {
        TupleHandle {
            0: ::core::clone::Clone::clone(&self.0),
            1: self.1,
        }
    }
}
#[automatically_derived]
#[allow(clippy::question_mark, clippy::needless_question_mark)]
impl ::neptune_core::__private::Loggable for Tuple {
    type Handle = TupleHandle;
    fn __fields(
        __at: &::neptune_core::__private::At,
        __out: &mut ::neptune_core::__private::Fields,
    ) {
        <f64 as ::neptune_core::__private::Loggable>::__fields(&__at.child("0"), __out);
    }
    fn __bind(
        __at: &::neptune_core::__private::At,
        __binder: &::neptune_core::__private::Binder,
    ) -> ::neptune_core::__private::Result<Self::Handle> {
        ::core::result::Result::Ok(TupleHandle {
            0: match <f64 as ::neptune_core::__private::Loggable>::__bind(
                &__at.child("0"),
                __binder,
            ) {
                ::core::result::Result::Ok(__handle) => __handle,
                ::core::result::Result::Err(__error) => {
                    return ::core::result::Result::Err(__error);
                }
            },
            1: ::core::marker::PhantomData,
        })
    }
    fn __write(
        __value: &Self,
        __at: &::neptune_core::__private::At,
        __writer: &mut ::neptune_core::__private::Writer<'_>,
    ) {
        <f64 as ::neptune_core::__private::Loggable>::__write(
            &__value.0,
            &__at.child("0"),
            __writer,
        );
    }
    fn __read(
        __at: &::neptune_core::__private::At,
        __reader: &mut ::neptune_core::__private::Reader,
    ) -> ::core::option::Option<Self> {
        let __field0 = <f64 as ::neptune_core::__private::Loggable>::__read(
            &__at.child("0"),
            __reader,
        );
        ::core::option::Option::Some(Self {
            0: __field0?,
            1: <String as ::core::default::Default>::default(),
        })
    }
}
#[automatically_derived]
impl ::neptune_core::__private::Namespace for Tuple {}
::core::compile_error! {
    "unknown loggable attribute `unknown`; a field takes rename = \"...\", skip or flatten"
}
::core::compile_error! {
    "fields `lr` and `other` both have the path segment \"lr\"; each field needs its own path (change a rename or rename_all)"
}
///Typed handle of [`Attrs`], made by `#[derive(Loggable)]`: a handle per field. Get it with `object.bind::<Attrs>(path)`.
struct AttrsHandle {
    ///Handle of the field `lr` of the namespace.
    lr: <f64 as ::neptune_core::__private::Loggable>::Handle,
    ///Handle of the field `lr` of the namespace.
    other: <f64 as ::neptune_core::__private::Loggable>::Handle,
    __loggable_marker: ::core::marker::PhantomData<()>,
}
impl ::core::clone::Clone for AttrsHandle {
    fn clone(&self) -> Self {
        AttrsHandle {
            lr: ::core::clone::Clone::clone(&self.lr),
            other: ::core::clone::Clone::clone(&self.other),
            __loggable_marker: self.__loggable_marker,
        }
    }
}
#[automatically_derived]
#[allow(clippy::question_mark, clippy::needless_question_mark)]
impl ::neptune_core::__private::Loggable for Attrs {
    type Handle = AttrsHandle;
    fn __fields(
        __at: &::neptune_core::__private::At,
        __out: &mut ::neptune_core::__private::Fields,
    ) {
        <f64 as ::neptune_core::__private::Loggable>::__fields(&__at.child("lr"), __out);
        <f64 as ::neptune_core::__private::Loggable>::__fields(&__at.child("lr"), __out);
    }
    fn __bind(
        __at: &::neptune_core::__private::At,
        __binder: &::neptune_core::__private::Binder,
    ) -> ::neptune_core::__private::Result<Self::Handle> {
        ::core::result::Result::Ok(AttrsHandle {
            lr: match <f64 as ::neptune_core::__private::Loggable>::__bind(
                &__at.child("lr"),
                __binder,
            ) {
                ::core::result::Result::Ok(__handle) => __handle,
                ::core::result::Result::Err(__error) => {
                    return ::core::result::Result::Err(__error);
                }
            },
            other: match <f64 as ::neptune_core::__private::Loggable>::__bind(
                &__at.child("lr"),
                __binder,
            ) {
                ::core::result::Result::Ok(__handle) => __handle,
                ::core::result::Result::Err(__error) => {
                    return ::core::result::Result::Err(__error);
                }
            },
            __loggable_marker: ::core::marker::PhantomData,
        })
    }
    fn __write(
        __value: &Self,
        __at: &::neptune_core::__private::At,
        __writer: &mut ::neptune_core::__private::Writer<'_>,
    ) {
        <f64 as ::neptune_core::__private::Loggable>::__write(
            &__value.lr,
            &__at.child("lr"),
            __writer,
        );
        <f64 as ::neptune_core::__private::Loggable>::__write(
            &__value.other,
            &__at.child("lr"),
            __writer,
        );
    }
    fn __read(
        __at: &::neptune_core::__private::At,
        __reader: &mut ::neptune_core::__private::Reader,
    ) -> ::core::option::Option<Self> {
        let __field0 = <f64 as ::neptune_core::__private::Loggable>::__read(
            &__at.child("lr"),
            __reader,
        );
        let __field1 = <f64 as ::neptune_core::__private::Loggable>::__read(
            &__at.child("lr"),
            __reader,
        );
        ::core::option::Option::Some(Self {
            lr: __field0?,
            other: __field1?,
        })
    }
}
#[automatically_derived]
impl ::neptune_core::__private::Namespace for Attrs {}
::core::compile_error! {
    "#[derive(Loggable)] on an enum needs unit variants (the field stores the variant's name as a String); `B` carries data. Use a struct for data"
}
#[automatically_derived]
impl ::neptune_core::__private::Loggable for WithData {
    type Handle = ::neptune_core::__private::ValueHandle<Self>;
    fn __fields(
        __at: &::neptune_core::__private::At,
        __out: &mut ::neptune_core::__private::Fields,
    ) {
        ::neptune_core::__private::single_fields::<Self>(__at, __out)
    }
    fn __bind(
        __at: &::neptune_core::__private::At,
        __binder: &::neptune_core::__private::Binder,
    ) -> ::neptune_core::__private::Result<Self::Handle> {
        ::neptune_core::__private::single_bind::<Self>(__at, __binder)
    }
    fn __write(
        __value: &Self,
        __at: &::neptune_core::__private::At,
        __writer: &mut ::neptune_core::__private::Writer<'_>,
    ) {
        ::neptune_core::__private::single_write(__value, __at, __writer)
    }
    fn __read(
        __at: &::neptune_core::__private::At,
        __reader: &mut ::neptune_core::__private::Reader,
    ) -> ::core::option::Option<Self> {
        ::neptune_core::__private::single_read(__at, __reader)
    }
}
#[automatically_derived]
impl ::neptune_core::__private::SingleValue for WithData {
    type Stored = ::std::string::String;
    fn to_stored(
        &self,
    ) -> ::core::result::Result<::std::string::String, ::std::string::String> {
        ::core::result::Result::Ok(
            ::std::string::String::from(
                match *self {
                    WithData::A { .. } => "A",
                    WithData::B { .. } => "B",
                },
            ),
        )
    }
    fn from_stored(
        __stored: ::std::string::String,
    ) -> ::core::result::Result<Self, ::std::string::String> {
        match __stored.as_str() {
            "A" => ::core::result::Result::Ok(WithData::A),
            _ => {
                ::core::result::Result::Err(
                    ::neptune_core::__private::unknown_variant(&__stored, &["A", "B"]),
                )
            }
        }
    }
}
::core::compile_error! {
    "#[derive(Loggable)] does not support unions; use a struct with named fields (a namespace) or a unit-only enum (a String field)"
}
#[automatically_derived]
impl ::neptune_core::__private::Loggable for U {
    type Handle = ();
    fn __fields(
        _: &::neptune_core::__private::At,
        _: &mut ::neptune_core::__private::Fields,
    ) {}
    fn __bind(
        _: &::neptune_core::__private::At,
        _: &::neptune_core::__private::Binder,
    ) -> ::neptune_core::__private::Result<()> {
        ::core::result::Result::Ok(())
    }
    fn __write(
        _: &Self,
        _: &::neptune_core::__private::At,
        _: &mut ::neptune_core::__private::Writer<'_>,
    ) {}
    fn __read(
        _: &::neptune_core::__private::At,
        _: &mut ::neptune_core::__private::Reader,
    ) -> ::core::option::Option<Self> {
        ::core::option::Option::None
    }
}
