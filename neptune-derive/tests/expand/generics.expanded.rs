///Typed handle of [`Metrics`], made by `#[derive(Loggable)]`: a handle per field. Get it with `object.bind::<Metrics>(path)`.
struct MetricsHandle<'a, T: Clone, const N: usize>
where
    T: Default,
    T: ::nep::__private::Loggable,
{
    ///Handle of the field `type` of the namespace.
    r#type: <T as ::nep::__private::Loggable>::Handle,
    ///Handle of the field `best` of the namespace.
    best: <Option<f64> as ::nep::__private::Loggable>::Handle,
    __loggable_marker: ::core::marker::PhantomData<fn() -> (T, &'a ())>,
}
impl<'a, T: Clone, const N: usize> ::core::clone::Clone for MetricsHandle<'a, T, N>
where
    T: Default,
    T: ::nep::__private::Loggable,
{
    fn clone(&self) -> Self {
        MetricsHandle {
            r#type: ::core::clone::Clone::clone(&self.r#type),
            best: ::core::clone::Clone::clone(&self.best),
            __loggable_marker: self.__loggable_marker,
        }
    }
}
#[automatically_derived]
#[allow(clippy::question_mark, clippy::needless_question_mark)]
impl<'a, T: Clone, const N: usize> ::nep::__private::Loggable for Metrics<'a, T, N>
where
    T: Default,
    T: ::nep::__private::Loggable,
{
    type Handle = MetricsHandle<'a, T, N>;
    fn __fields(__at: &::nep::__private::At, __out: &mut ::nep::__private::Fields) {
        <T as ::nep::__private::Loggable>::__fields(&__at.child("type"), __out);
        <Option<
            f64,
        > as ::nep::__private::Loggable>::__fields(&__at.child("best"), __out);
    }
    fn __bind(
        __at: &::nep::__private::At,
        __binder: &::nep::__private::Binder,
    ) -> ::nep::__private::Result<Self::Handle> {
        ::core::result::Result::Ok(MetricsHandle {
            r#type: match <T as ::nep::__private::Loggable>::__bind(
                &__at.child("type"),
                __binder,
            ) {
                ::core::result::Result::Ok(__handle) => __handle,
                ::core::result::Result::Err(__error) => {
                    return ::core::result::Result::Err(__error);
                }
            },
            best: match <Option<
                f64,
            > as ::nep::__private::Loggable>::__bind(&__at.child("best"), __binder) {
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
        __at: &::nep::__private::At,
        __writer: &mut ::nep::__private::Writer<'_>,
    ) {
        <T as ::nep::__private::Loggable>::__write(
            &__value.r#type,
            &__at.child("type"),
            __writer,
        );
        <Option<
            f64,
        > as ::nep::__private::Loggable>::__write(
            &__value.best,
            &__at.child("best"),
            __writer,
        );
    }
    fn __read(
        __at: &::nep::__private::At,
        __reader: &mut ::nep::__private::Reader,
    ) -> ::core::option::Option<Self> {
        let __field0 = <T as ::nep::__private::Loggable>::__read(
            &__at.child("type"),
            __reader,
        );
        let __field1 = <Option<
            f64,
        > as ::nep::__private::Loggable>::__read(&__at.child("best"), __reader);
        ::core::option::Option::Some(Self {
            r#type: __field0?,
            best: __field1?,
            name: <&'a str as ::core::default::Default>::default(),
        })
    }
}
#[automatically_derived]
impl<'a, T: Clone, const N: usize> ::nep::__private::Namespace for Metrics<'a, T, N>
where
    T: Default,
    T: ::nep::__private::Loggable,
{}
