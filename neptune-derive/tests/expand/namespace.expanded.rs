///Typed handle of [`Params`], made by `#[derive(Loggable)]`: a handle per field. Get it with `object.bind::<Params>(path)`.
pub struct ParamsHandle {
    ///Handle of the field `learningRate` of the namespace.
    learning_rate: <f64 as ::neptune_core::__private::Loggable>::Handle,
    ///Handle of the field `epochs` of the namespace.
    pub max_epochs: <u32 as ::neptune_core::__private::Loggable>::Handle,
    ///Handles of a nested struct whose fields are flattened into the namespace.
    adam: <Adam as ::neptune_core::__private::Loggable>::Handle,
    ///Handle of the field `loss` of the namespace.
    loss: <FloatSeries as ::neptune_core::__private::Loggable>::Handle,
    __loggable_marker: ::core::marker::PhantomData<()>,
}
impl ::core::clone::Clone for ParamsHandle {
    fn clone(&self) -> Self {
        ParamsHandle {
            learning_rate: ::core::clone::Clone::clone(&self.learning_rate),
            max_epochs: ::core::clone::Clone::clone(&self.max_epochs),
            adam: ::core::clone::Clone::clone(&self.adam),
            loss: ::core::clone::Clone::clone(&self.loss),
            __loggable_marker: self.__loggable_marker,
        }
    }
}
#[automatically_derived]
#[allow(clippy::question_mark, clippy::needless_question_mark)]
impl ::neptune_core::__private::Loggable for Params {
    type Handle = ParamsHandle;
    fn __fields(
        __at: &::neptune_core::__private::At,
        __out: &mut ::neptune_core::__private::Fields,
    ) {
        <f64 as ::neptune_core::__private::Loggable>::__fields(
            &__at.child("learningRate"),
            __out,
        );
        <u32 as ::neptune_core::__private::Loggable>::__fields(
            &__at.child("epochs"),
            __out,
        );
        <Adam as ::neptune_core::__private::Namespace>::__namespace();
        <Adam as ::neptune_core::__private::Loggable>::__fields(__at, __out);
        <FloatSeries as ::neptune_core::__private::Loggable>::__fields(
            &__at.child("loss"),
            __out,
        );
    }
    fn __bind(
        __at: &::neptune_core::__private::At,
        __binder: &::neptune_core::__private::Binder,
    ) -> ::neptune_core::__private::Result<Self::Handle> {
        ::core::result::Result::Ok(ParamsHandle {
            learning_rate: match <f64 as ::neptune_core::__private::Loggable>::__bind(
                &__at.child("learningRate"),
                __binder,
            ) {
                ::core::result::Result::Ok(__handle) => __handle,
                ::core::result::Result::Err(__error) => {
                    return ::core::result::Result::Err(__error);
                }
            },
            max_epochs: match <u32 as ::neptune_core::__private::Loggable>::__bind(
                &__at.child("epochs"),
                __binder,
            ) {
                ::core::result::Result::Ok(__handle) => __handle,
                ::core::result::Result::Err(__error) => {
                    return ::core::result::Result::Err(__error);
                }
            },
            adam: match <Adam as ::neptune_core::__private::Loggable>::__bind(
                __at,
                __binder,
            ) {
                ::core::result::Result::Ok(__handle) => __handle,
                ::core::result::Result::Err(__error) => {
                    return ::core::result::Result::Err(__error);
                }
            },
            loss: match <FloatSeries as ::neptune_core::__private::Loggable>::__bind(
                &__at.child("loss"),
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
            &__value.learning_rate,
            &__at.child("learningRate"),
            __writer,
        );
        <u32 as ::neptune_core::__private::Loggable>::__write(
            &__value.max_epochs,
            &__at.child("epochs"),
            __writer,
        );
        <Adam as ::neptune_core::__private::Loggable>::__write(
            &__value.adam,
            __at,
            __writer,
        );
        <FloatSeries as ::neptune_core::__private::Loggable>::__write(
            &__value.loss,
            &__at.child("loss"),
            __writer,
        );
    }
    fn __read(
        __at: &::neptune_core::__private::At,
        __reader: &mut ::neptune_core::__private::Reader,
    ) -> ::core::option::Option<Self> {
        let __field0 = <f64 as ::neptune_core::__private::Loggable>::__read(
            &__at.child("learningRate"),
            __reader,
        );
        let __field1 = <u32 as ::neptune_core::__private::Loggable>::__read(
            &__at.child("epochs"),
            __reader,
        );
        let __field2 = <Adam as ::neptune_core::__private::Loggable>::__read(
            __at,
            __reader,
        );
        let __field3 = <FloatSeries as ::neptune_core::__private::Loggable>::__read(
            &__at.child("loss"),
            __reader,
        );
        ::core::option::Option::Some(Self {
            learning_rate: __field0?,
            max_epochs: __field1?,
            cache: <Vec<String> as ::core::default::Default>::default(),
            adam: __field2?,
            loss: __field3?,
        })
    }
}
#[automatically_derived]
impl ::neptune_core::__private::Namespace for Params {}
