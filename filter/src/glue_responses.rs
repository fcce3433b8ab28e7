//! Response validation's hostcalls (`crate::responses` holds the logic): reads what the
//! check needs from the response headers and copies body chunks as they pass. Always
//! lets the response continue.

use proxy_wasm::hostcalls;
use proxy_wasm::types::MapType;

use super::{Exchange, WasmHost};
use crate::responses::ResponseHead;

pub(super) fn on_headers(ex: &mut Exchange, end_of_stream: bool) {
    let header = |name: &str| {
        hostcalls::get_map_value(MapType::HttpResponseHeaders, name)
            .ok()
            .flatten()
    };
    let status = header(":status");
    let content_type = header("content-type");
    let content_encoding = header("content-encoding");
    let head = ResponseHead {
        status: status.as_deref(),
        content_type: content_type.as_deref(),
        content_encoding: content_encoding.as_deref(),
        end_of_stream,
    };
    let Ok(mut state) = ex.state.try_borrow_mut() else {
        return;
    };
    ex.responses
        .on_headers(&ex.config, &mut state.responses, &WasmHost, &head);
}

/// `chunk`: the response body bytes not seen before (the glue tracks what the host re-hands
/// while another reader holds the body back).
pub(super) fn on_chunk(ex: &mut Exchange, chunk: &[u8], end_of_stream: bool) {
    let Ok(mut state) = ex.state.try_borrow_mut() else {
        return;
    };
    ex.responses.on_body(
        &ex.config,
        &mut state.responses,
        &WasmHost,
        chunk,
        end_of_stream,
    );
}
