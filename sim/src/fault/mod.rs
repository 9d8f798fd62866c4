//! Faults, injected from outside the cluster: the `nemesis` fires a scenario's fault steps
//! (crashes, restarts, pauses, cuts, wipes, elections) when their triggers hold, and
//! `mutation` holds the deliberate protocol bugs that `losslab explore --mutation` turns on to
//! prove the checker and the fault schedules can find real ones.

pub mod mutation;
pub mod nemesis;
