//! egui panels. Depends on `model` only (never on `mqtt` internals). OWNER: ui helper.
