//! One alarm per actor, never later than the earliest time the actor's data needs it, and
//! written only when it must move earlier (or be set at all).

use crate::model::EpochMs;
use crate::queue::maintenance::alarm_covers;
use std::cell::Cell;
use worker::{js_sys, wasm_bindgen::JsValue, Result, ScheduledTime, Storage};

/// Remembers the alarm time this actor instance last set.
#[derive(Default)]
pub struct AlarmSlot {
    /// `None` until known (a fresh instance must set it once), `Some(None)` for no alarm.
    armed: Cell<Option<Option<EpochMs>>>,
}

impl AlarmSlot {
    /// Records that the alarm has fired: whatever is due next must be set again.
    pub fn spent(&self) {
        self.armed.set(Some(None));
    }

    /// Whether this instance knows the alarm's time (it set or cleared it itself). Until then
    /// only the earliest due time read from storage may set it.
    pub fn is_known(&self) -> bool {
        self.armed.get().is_some()
    }

    /// Makes sure an alarm fires no later than `wake` (the rule: [`alarm_covers`]).
    pub async fn arm(&self, storage: &Storage, wake: Option<EpochMs>) -> Result<()> {
        if alarm_covers(self.armed.get(), wake) {
            return Ok(());
        }
        // Record before awaiting: storage applies alarm calls in the order they are made, so
        // the last recorded value is the one that ends up set.
        self.armed.set(Some(wake));
        let result = match wake {
            // setAlarm refuses times <= 0 (a job may be due at the epoch itself); any time in
            // the past fires at once, so 1 ms means the same.
            Some(at) => {
                let at = at.max(1) as f64;
                storage.set_alarm(ScheduledTime::new(js_sys::Date::new(&JsValue::from_f64(at)))).await
            }
            None => storage.delete_alarm().await,
        };
        if result.is_err() {
            self.armed.set(None);
        }
        result
    }
}
