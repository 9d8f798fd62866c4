//! The inks and fault patterns of the timeline, shared by the panels that draw lanes and bands
//! and by the key that explains them: one place, so the key always shows what a lane draws.

use super::model::FaultKind;
use crate::charts::style::{self, Pattern};
use plotters::style::RGBColor;

pub(super) const LEADER_FILL: RGBColor = RGBColor(222, 235, 247);
pub(super) const LEADER_INK: RGBColor = RGBColor(33, 80, 140);
pub(super) const HW_INK: RGBColor = RGBColor(33, 102, 172);
pub(super) const PAUSE_INK: RGBColor = RGBColor(106, 61, 154);
pub(super) const CUT_INK: RGBColor = RGBColor(140, 81, 10);
pub(super) const ACKED_INK: RGBColor = RGBColor(230, 97, 1);
pub(super) const REMOVED_INK: RGBColor = RGBColor(165, 15, 21);
pub(super) const MIN_ISR_INK: RGBColor = RGBColor(165, 15, 21);
/// Transactions: COMMIT markers (a green triangle), ABORT markers (a magenta square), and the
/// leader's last stable offset (a teal dotted step).
pub(super) const COMMIT_INK: RGBColor = RGBColor(27, 120, 55);
pub(super) const ABORT_INK: RGBColor = RGBColor(197, 27, 125);
pub(super) const LSO_INK: RGBColor = RGBColor(1, 133, 113);
/// Consumer lanes: the position (black, as a broker's LEO), the processed progress (green), the
/// committed offset (blue dashed, as a HW: both are bookmarks), skipped records (a purple
/// diamond) and records processed again (a brown square); rebalances (grey ticks).
pub(super) const PROCESSED_INK: RGBColor = RGBColor(77, 146, 33);
pub(super) const COMMITTED_INK: RGBColor = RGBColor(33, 102, 172);
pub(super) const SKIPPED_INK: RGBColor = RGBColor(118, 42, 131);
pub(super) const DUPLICATED_INK: RGBColor = RGBColor(140, 81, 10);
pub(super) const REBALANCE_INK: RGBColor = RGBColor(90, 90, 90);

/// Underlay colour, pattern, pattern ink, underlay opacity and pattern spacing of a fault kind.
pub(super) fn fault_look(kind: FaultKind) -> (RGBColor, Pattern, RGBColor, f64, i32) {
    match kind {
        FaultKind::ProcessCrash => (style::MID_GREY, Pattern::Diagonal, style::DARK_GREY, 0.25, 9),
        FaultKind::PowerCrash => (style::DARK_GREY, Pattern::Cross, style::BLACK_INK, 0.45, 9),
        FaultKind::Pause => (PAUSE_INK, Pattern::Vertical, PAUSE_INK, 0.08, 6),
        FaultKind::Cut => (CUT_INK, Pattern::Horizontal, CUT_INK, 0.08, 6),
        FaultKind::Wipe => (style::BLACK_INK, Pattern::Solid, style::BLACK_INK, 1.0, 1),
    }
}
