//! Where an interview happens: a video link (a fixed address, or a template
//! that makes a room of its own per booking, such as a Jitsi room name), a
//! room, a telephone number to call, or "we will call you". Set per study;
//! an interviewer's own place, when set, wins.

/// The kinds of place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceKind {
    Video,
    Room,
    Phone,
    /// The interviewer calls the participant.
    WeCall,
}

impl PlaceKind {
    pub const ALL: [PlaceKind; 4] = [PlaceKind::Video, PlaceKind::Room, PlaceKind::Phone, PlaceKind::WeCall];

    pub fn as_str(self) -> &'static str {
        match self {
            PlaceKind::Video => "video",
            PlaceKind::Room => "room",
            PlaceKind::Phone => "phone",
            PlaceKind::WeCall => "we_call",
        }
    }

    pub fn parse(s: &str) -> Option<PlaceKind> {
        PlaceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A place: its kind and what it needs (the address, the room, the number).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub kind: PlaceKind,
    pub detail: String,
}

/// The placeholder of a video template that becomes the booking's room.
pub const ROOM_PLACEHOLDER: &str = "{room}";

/// Why a place cannot be saved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlaceError {
    UnknownKind,
    /// A video place needs an `https://` (or `http://`) address.
    NotAnAddress,
    /// A room or a telephone number needs its text.
    Missing,
}

impl Place {
    /// A place from a form's kind and detail; `Ok(None)` when no kind is
    /// chosen.
    pub fn parse(kind: &str, detail: &str) -> Result<Option<Place>, PlaceError> {
        let detail = detail.trim();
        let kind = match kind.trim() {
            "" => return Ok(None),
            k => PlaceKind::parse(k).ok_or(PlaceError::UnknownKind)?,
        };
        let ok = match kind {
            PlaceKind::Video => {
                let lower = detail.to_ascii_lowercase();
                (lower.starts_with("https://") || lower.starts_with("http://"))
                    && !detail.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            PlaceKind::Room | PlaceKind::Phone => !detail.is_empty(),
            PlaceKind::WeCall => true,
        };
        match ok {
            true => {
                Ok(Some(Place { kind, detail: if kind == PlaceKind::WeCall { String::new() } else { detail.into() } }))
            }
            false if kind == PlaceKind::Video => Err(PlaceError::NotAnAddress),
            false => Err(PlaceError::Missing),
        }
    }

    /// The place of one booking: a video template's `{room}` becomes a room
    /// name of the booking's own (from its calendar UID), the same for every
    /// message about that booking and different for every other booking.
    pub fn for_booking(&self, booking_uid: &str) -> Place {
        let room: String = booking_uid.chars().filter(char::is_ascii_alphanumeric).take(24).collect();
        Place { kind: self.kind, detail: self.detail.replace(ROOM_PLACEHOLDER, &format!("undercurrent-{room}")) }
    }

    /// A video address, for a calendar entry's URL.
    pub fn url(&self) -> Option<&str> {
        (self.kind == PlaceKind::Video).then_some(self.detail.as_str())
    }
}

/// The place of an interview: the interviewer's own when set, else the
/// study's.
pub fn choose(study: Option<Place>, interviewer: Option<Place>) -> Option<Place> {
    interviewer.or(study)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_needs_what_it_names() {
        assert_eq!(Place::parse("", "x"), Ok(None));
        assert_eq!(Place::parse("teleport", ""), Err(PlaceError::UnknownKind));
        assert_eq!(Place::parse("video", "meet.example/abc"), Err(PlaceError::NotAnAddress));
        assert_eq!(Place::parse("video", "javascript:alert(1)"), Err(PlaceError::NotAnAddress));
        assert_eq!(Place::parse("video", "https://meet.example/a b"), Err(PlaceError::NotAnAddress));
        assert_eq!(Place::parse("room", "  "), Err(PlaceError::Missing));
        assert_eq!(Place::parse("phone", ""), Err(PlaceError::Missing));
        assert_eq!(
            Place::parse("we_call", "ignored"),
            Ok(Some(Place { kind: PlaceKind::WeCall, detail: String::new() }))
        );
        assert_eq!(
            Place::parse("video", " https://meet.jit.si/{room} "),
            Ok(Some(Place { kind: PlaceKind::Video, detail: "https://meet.jit.si/{room}".into() }))
        );
    }

    #[test]
    fn a_template_gives_each_booking_its_own_room() {
        let p = Place::parse("video", "https://meet.jit.si/{room}").unwrap().unwrap();
        let a = p.for_booking("6f1c-22@undercurrent");
        let b = p.for_booking("9a0e-41@undercurrent");
        assert_eq!(a.detail, "https://meet.jit.si/undercurrent-6f1c22undercurrent");
        assert_ne!(a, b);
        assert_eq!(a, p.for_booking("6f1c-22@undercurrent"), "the same booking keeps its room");
        let fixed = Place::parse("video", "https://zoom.example/j/123").unwrap().unwrap();
        assert_eq!(fixed.for_booking("x").detail, "https://zoom.example/j/123");
        assert_eq!(a.url(), Some(a.detail.as_str()));
    }

    #[test]
    fn the_interviewers_place_wins() {
        let room = Place::parse("room", "Cedar 3F").unwrap();
        let call = Place::parse("we_call", "").unwrap();
        assert_eq!(choose(room.clone(), call.clone()), call);
        assert_eq!(choose(room.clone(), None), room);
        assert_eq!(choose(None, None), None);
    }
}
