#[automatically_derived]
impl ::neptune_core::__private::Loggable for Schedule {
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
impl ::neptune_core::__private::SingleValue for Schedule {
    type Stored = ::std::string::String;
    fn to_stored(
        &self,
    ) -> ::core::result::Result<::std::string::String, ::std::string::String> {
        ::core::result::Result::Ok(
            ::std::string::String::from(
                match *self {
                    Schedule::LinearDecay { .. } => "linear-decay",
                    Schedule::Cosine { .. } => "cos",
                },
            ),
        )
    }
    fn from_stored(
        __stored: ::std::string::String,
    ) -> ::core::result::Result<Self, ::std::string::String> {
        match __stored.as_str() {
            "linear-decay" => ::core::result::Result::Ok(Schedule::LinearDecay),
            "cos" => ::core::result::Result::Ok(Schedule::Cosine),
            _ => {
                ::core::result::Result::Err(
                    ::neptune_core::__private::unknown_variant(
                        &__stored,
                        &["linear-decay", "cos"],
                    ),
                )
            }
        }
    }
}
