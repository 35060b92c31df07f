//! Roles granted on an organization subtree, and clearance for classified resolutions (R2.8).

use crate::{choice, RuleError};

choice!(
    /// A role granted on an organization; valid for its whole subtree. Ranked low to high.
    Role {
        Member = "member" / "Đảng viên",
        Presenter = "presenter" / "Báo cáo viên",
        Secretary = "secretary" / "Bí thư",
        Organizer = "organizer" / "Cán bộ tuyên giáo",
        Admin = "admin" / "Quản trị",
    }
);

impl Role {
    /// Every role at or above `self`.
    pub fn and_above(self) -> impl Iterator<Item = Role> {
        Role::ALL.iter().copied().filter(move |r| *r >= self)
    }
}

choice!(
    /// How far a user is cleared for classified resolutions. Ranked low to high.
    Clearance {
        None = "none" / "Không",
        Confidential = "confidential" / "Mật",
        Secret = "secret" / "Tối mật",
        TopSecret = "top_secret" / "Tuyệt mật",
    }
);

/// Passwords seen most often in leaks, plus Vietnamese habits; refused whatever their length.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "123456789@",
    "1234567890a",
    "0123456789",
    "9876543210",
    "1111111111",
    "0000000000",
    "1234512345",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "asdfghjkl1",
    "password12",
    "password123",
    "password1234",
    "passw0rd12",
    "iloveyou12",
    "abc1234567",
    "abcd123456",
    "a123456789",
    "aa12345678",
    "zxcvbnm123",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "qazwsxedc1",
    "trustno1234",
    "matkhau123",
    "matkhau1234",
    "matkhau@123",
    "anhyeuem123",
    "anhyeuem1234",
    "emyeuanh123",
    "vietnam123",
    "vietnam1234",
    "vietnam@123",
    "hanoi12345",
    "saigon1234",
    "admin12345",
    "admin123456",
    "administrator",
    "quantri123",
    "quantri1234",
    "dangvien123",
    "dangcongsan",
    "dangcongsanvietnam",
    "hochiminh123",
    "changeme123",
    "welcome123",
    "welcome1234",
    "letmein1234",
    "football12",
    "princess12",
    "sunshine12",
];

/// A new password (R2.8, issue 4): at least 10 characters, not a common password, and not built
/// from the user's own name or login.
pub fn validate_password(p: &str, username: &str, display_name: &str) -> Result<(), RuleError> {
    if p.chars().count() < 10 {
        return Err(RuleError::PasswordTooShort);
    }
    let folded = crate::text::fold(p).replace(' ', "");
    if COMMON_PASSWORDS.iter().any(|c| *c == folded) {
        return Err(RuleError::PasswordTooCommon);
    }
    // The login itself, and the whole name run together ("nguyenvanan"), are too easy to guess.
    let personal = [
        crate::text::fold(username).replace(' ', ""),
        crate::text::fold(display_name).replace(' ', ""),
    ];
    if personal
        .iter()
        .any(|w| w.chars().count() >= 4 && folded.contains(w.as_str()))
    {
        return Err(RuleError::PasswordPersonal);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_compare_by_rank() {
        assert!(Role::Admin > Role::Organizer && Role::Organizer > Role::Secretary);
        let above: Vec<_> = Role::Organizer.and_above().collect();
        assert_eq!(above, [Role::Organizer, Role::Admin]);
    }

    #[test]
    fn password_rules() {
        assert_eq!(
            validate_password("short", "an", "An"),
            Err(RuleError::PasswordTooShort)
        );
        assert_eq!(
            validate_password("Matkhau@123", "an", "An"),
            Err(RuleError::PasswordTooCommon)
        );
        assert_eq!(
            validate_password("nguyenvanan-2026", "anv", "Nguyễn Văn An"),
            Err(RuleError::PasswordPersonal)
        );
        assert_eq!(
            validate_password("organizer-2026!", "organizer", "Cán bộ"),
            Err(RuleError::PasswordPersonal)
        );
        assert_eq!(
            validate_password("song-Hồng-chảy-2026", "anv", "Nguyễn Văn An"),
            Ok(())
        );
    }

    #[test]
    fn clearance_ranks() {
        assert!(Clearance::TopSecret > Clearance::Secret);
        assert!(Clearance::Confidential > Clearance::None);
    }
}
