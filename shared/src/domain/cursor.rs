//! Opaque pagination cursors, bound to the list they came from.
//!
//! A cursor carries the scope of its list (which list, which organization or user, which
//! filters) and the last key of the page. A cursor is accepted only by the same scope, and the
//! store checks that its key lies inside that scope's key range, so an edited or borrowed
//! cursor can at worst move within a list the caller may already read.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::Error;

#[derive(Serialize, Deserialize)]
struct Wire {
    v: u8,
    s: String,
    k: String,
}

const VERSION: u8 = 1;
const MAX_LEN: usize = 1024;

pub fn encode(scope: &str, last_key: &str) -> String {
    let wire = Wire { v: VERSION, s: scope.to_owned(), k: last_key.to_owned() };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).expect("cursor serialises"))
}

/// The last key carried by `cursor`, if it was made for `scope`.
pub fn decode(cursor: &str, scope: &str) -> Result<String, Error> {
    if cursor.len() > MAX_LEN {
        return Err(Error::InvalidCursor);
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| Error::InvalidCursor)?;
    let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| Error::InvalidCursor)?;
    if wire.v != VERSION || wire.s != scope || wire.k.is_empty() {
        return Err(Error::InvalidCursor);
    }
    Ok(wire.k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_scope() {
        let c = encode("members:org_1", "MEMBER#u7");
        assert_eq!(decode(&c, "members:org_1").unwrap(), "MEMBER#u7");
    }

    #[test]
    fn rejects_other_lists_and_garbage() {
        let c = encode("members:org_1", "MEMBER#u7");
        assert_eq!(decode(&c, "members:org_2"), Err(Error::InvalidCursor));
        assert_eq!(decode(&c, "audit:org_1"), Err(Error::InvalidCursor));
        let mut edited = c.clone();
        edited.replace_range(3..4, if &c[3..4] == "A" { "B" } else { "A" });
        assert_eq!(decode(&edited, "members:org_1"), Err(Error::InvalidCursor));
        for junk in ["", "!!!", "e30", &"A".repeat(2000)] {
            assert_eq!(decode(junk, "members:org_1"), Err(Error::InvalidCursor), "{junk}");
        }
    }
}
