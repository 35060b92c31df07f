//! Putting resolutions into practice (R7.x, R8.x): the tasks a committee sends down its tree
//! with a deadline, each answered by a report of completion or sent further down (R8.1).
//! Action programs and plans with their items come here next (issue 14).

pub mod tasks;
