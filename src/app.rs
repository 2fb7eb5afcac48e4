//! Wires store, worker and panels; owns the per-frame order. OWNER: ui helper.
