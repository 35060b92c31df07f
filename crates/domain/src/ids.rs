//! One id type per entity, so that arguments cannot be swapped.

macro_rules! id_type {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { self.0.fmt(f) }
        }
        impl From<i64> for $name {
            fn from(id: i64) -> Self { Self(id) }
        }
        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> { s.trim().parse().map(Self) }
        }
    )*};
}

id_type!(
    /// An organization (a node of the tree).
    OrgId,
    /// A person: cadre or party member.
    PersonId,
    /// A login account.
    AccountId,
    /// A catalog entry: resolution, directive, conclusion…
    ResolutionId,
    /// A study campaign (đợt học tập).
    CampaignId,
    /// A class or study conference.
    ClassId,
    /// A session (buổi học) of a class.
    SessionId,
    /// A bridge point (điểm cầu) of an online class.
    BridgePointId,
    /// A participant row of a class.
    ParticipantId,
    /// A task sent down the tree (R8.1).
    TaskId,
    /// An action program or implementation plan (R7.x).
    PlanId,
    /// An item of a plan: a goal, key task or breakthrough solution (R7.3).
    PlanItemId,
    WorkingGroupId,
    SupervisionId,
    ConductRecordId,
    /// A question of a resolution's bank (R4.1).
    QuestionId,
    /// A questionnaire: a class's quiz or survey, a cell's quiz, a contest round.
    QuizId,
    /// One person's (or entrant's) attempt at a questionnaire.
    AttemptId,
    /// A written reflection after a class.
    ReflectionId,
);
