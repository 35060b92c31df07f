//! Positions held in an organization's committee (R1.3, R2.8, R3.2): standing membership is
//! data, so that the system can tell who may chair a class, present classified content or sit
//! on a working group.

crate::choice!(
    /// A position in the committee (or the apparatus) of one organization.
    CommitteeRole {
        Secretary = "secretary" / "Bí thư",
        DeputySecretary = "deputy_secretary" / "Phó Bí thư",
        StandingMember = "standing_member" / "Ủy viên Ban Thường vụ",
        ExecutiveMember = "executive_member" / "Cấp ủy viên",
        UnitLeader = "unit_leader" / "Thủ trưởng cơ quan, đơn vị",
        PropagandaStaff = "propaganda_staff" / "Cán bộ Ban Tuyên giáo",
        AdvisoryStaff = "advisory_staff" / "Cán bộ cơ quan tham mưu",
        Presenter = "presenter" / "Báo cáo viên",
    }
);

impl CommitteeRole {
    /// May chair a class and open or close it (R1.3): the standing members of the organizing
    /// committee — its secretary and deputies count — or the unit's leader.
    pub const LEADING: &'static [CommitteeRole] = &[
        Self::Secretary,
        Self::DeputySecretary,
        Self::StandingMember,
        Self::UnitLeader,
    ];
    /// May sit on a working group (R3.2): the propaganda department and the advisory bodies.
    pub const SUPERVISING: &'static [CommitteeRole] = &[Self::PropagandaStaff, Self::AdvisoryStaff];

    pub fn leads(self) -> bool {
        Self::LEADING.contains(&self)
    }

    /// May present the content of a classified resolution (R2.8): a leading member of the
    /// organizing committee or an assigned presenter.
    pub fn may_present_classified(self) -> bool {
        self.leads() || self == Self::Presenter
    }

    /// The SQL list of the codes of `roles` (`'secretary', 'deputy_secretary'`), for `IN (…)`.
    pub fn sql_list(roles: &[CommitteeRole]) -> String {
        roles
            .iter()
            .map(|r| format!("'{}'", r.code()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn r1_3_standing_members_and_unit_leaders_lead_classes() {
        assert!(CommitteeRole::Secretary.leads());
        assert!(CommitteeRole::StandingMember.leads());
        assert!(CommitteeRole::UnitLeader.leads());
        assert!(!CommitteeRole::ExecutiveMember.leads());
        assert!(!CommitteeRole::Presenter.leads());
    }

    #[test]
    fn r2_8_classified_content_by_standing_members_or_assigned_presenters() {
        assert!(CommitteeRole::Presenter.may_present_classified());
        assert!(CommitteeRole::DeputySecretary.may_present_classified());
        assert!(!CommitteeRole::PropagandaStaff.may_present_classified());
        assert!(!CommitteeRole::ExecutiveMember.may_present_classified());
    }

    #[test]
    fn sql_list_quotes_codes() {
        assert_eq!(
            CommitteeRole::sql_list(CommitteeRole::SUPERVISING),
            "'propaganda_staff', 'advisory_staff'"
        );
    }
}
