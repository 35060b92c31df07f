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

/// A new password: at least 10 characters.
pub fn validate_password(p: &str) -> Result<(), RuleError> {
    if p.chars().count() < 10 {
        return Err(RuleError::PasswordTooShort);
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
    fn clearance_ranks() {
        assert!(Clearance::TopSecret > Clearance::Secret);
        assert!(Clearance::Confidential > Clearance::None);
    }
}
