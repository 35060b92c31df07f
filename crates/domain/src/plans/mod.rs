//! Putting resolutions into practice (R1.1, R1.2, R7.x, R8.x): action programs and plans with
//! their lifecycle and items (issue 14.1–14.3), and the tasks a committee sends down its tree
//! with a deadline, each answered by a report of completion or sent further down (R8.1).

pub mod action_plans;
pub mod calendar;
pub mod tasks;
