//! Response validation's glue (`crate::responses` holds the logic): takes what the check
//! needs from the response headers the glue read and the body chunks as they pass. Always
//! lets the response continue.

use super::{Exchange, WasmHost};
use crate::auth::header_values;
use crate::responses::ResponseHead;

pub(super) fn on_headers(ex: &mut Exchange, headers: &[(String, String)], end_of_stream: bool) {
    let header = |name| header_values(headers, name).next();
    let status = header(":status");
    let content_type = header("content-type");
    let content_encoding = header("content-encoding");
    let head = ResponseHead {
        status,
        content_type,
        content_encoding,
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
