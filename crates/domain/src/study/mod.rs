//! Campaigns, classes, sessions, participants and attendance (R2.1–R2.6, R3.1, R3.3–R3.5).

mod attendance;
pub mod attendance_file;
mod checkin;
mod feedback;
mod inputs;
mod participants;
pub mod seats;

pub use attendance::*;
pub use checkin::*;
pub use feedback::*;
pub use inputs::*;
pub use participants::*;

use crate::choice;

choice!(
    /// How a class is held.
    ClassForm {
        InPerson = "in_person" / "Trực tiếp",
        Online = "online" / "Trực tuyến",
        Hybrid = "hybrid" / "Trực tiếp kết hợp trực tuyến",
    }
);

impl ClassForm {
    /// Online and hybrid classes have bridge points (R2.2).
    pub fn has_bridge_points(self) -> bool {
        self != Self::InPerson
    }
    /// In-person and hybrid classes have a venue with a capacity (R2.1).
    pub fn has_venue(self) -> bool {
        self != Self::Online
    }
}

choice!(
    /// The audience tier a class serves; decides which materials it shows (R2.7).
    AudienceTier {
        KeyCadres = "key_cadres" / "Cán bộ chủ chốt",
        Grassroots = "grassroots" / "Cán bộ, đảng viên ở cơ sở",
        Public = "public" / "Đoàn viên, hội viên, quần chúng nhân dân",
    }
);

choice!(
    /// Where a class stands.
    ClassStatus {
        Planned = "planned" / "Đang tổ chức",
        Finished = "finished" / "Đã kết thúc",
    }
);
