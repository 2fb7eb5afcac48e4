//! The project's datapoint names from the platform: `GET …/datapoints/byPage`, every page of
//! 100, in the background with progress and cancel. The result is `(hash_id, name)` pairs for
//! the store's datapoint registry (`Store::learn_datapoint_names`), so the tree names every
//! hashed topic from its first message and the project's hash id length is known.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use super::api::{ApiError, ApiErrorKind, Operation};
use super::client::AedifionClient;

/// Datapoints per page (the API's maximum).
pub const PER_PAGE: u32 = 100;
/// Pages read at most (2,000,000 datapoints, the registry's limit): a broken `total_pages`
/// cannot keep the import going for ever.
pub const MAX_PAGES: u32 = 20_000;

/// A project's datapoints, as the API lists them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DatapointNames {
    /// The project.
    pub project_id: u64,
    /// `(hash_id, name)`, in the API's order.
    pub pairs: Vec<(String, String)>,
    /// The hash id length, when every id has the same length.
    pub hash_id_length: Option<usize>,
    /// Names listed without a hash id (not usable for topics).
    pub without_hash_id: usize,
}

impl DatapointNames {
    /// The pairs as borrowed `(hash_id, name)`, for `Store::learn_datapoint_names`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .map(|(hash, name)| (hash.as_str(), name.as_str()))
    }
}

/// How far an import got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportProgress {
    /// Pages read.
    pub pages_done: u32,
    /// Pages in all (known after the first).
    pub total_pages: Option<u32>,
    /// Datapoints read so far.
    pub datapoints: usize,
    /// Datapoints in all (known after the first page).
    pub total_datapoints: Option<u64>,
}

impl ImportProgress {
    /// 0.0 … 1.0 (0 until the first page).
    pub fn fraction(&self) -> f32 {
        match self.total_pages {
            Some(0) => 1.0,
            Some(total) => self.pages_done as f32 / total as f32,
            None => 0.0,
        }
    }
}

/// Why an import ended without the names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// A page could not be read.
    #[error("{0}")]
    Api(#[from] ApiError),
    /// Cancelled.
    #[error("the datapoint import was cancelled")]
    Cancelled,
}

/// Reads every page. `progress` is called after each; `cancel` is checked between pages.
pub fn fetch_datapoint_names(
    client: &AedifionClient,
    project_id: u64,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<DatapointNames, ImportError> {
    let mut names = DatapointNames {
        project_id,
        ..DatapointNames::default()
    };
    let mut lengths = std::collections::BTreeSet::new();
    let mut page = 1;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(ImportError::Cancelled);
        }
        let answer = client.datapoints_page(project_id, page, PER_PAGE)?;
        let mapped: std::collections::HashSet<&str> = answer
            .id_mappings
            .iter()
            .map(|mapping| mapping.id.as_str())
            .collect();
        names.without_hash_id += answer
            .datapoint_ids
            .iter()
            .filter(|id| !mapped.contains(id.as_str()))
            .count();
        for mapping in answer.id_mappings {
            lengths.insert(mapping.hash_id.len());
            names.pairs.push((mapping.hash_id, mapping.id));
        }
        let total_pages = answer.meta.total_pages;
        if total_pages > MAX_PAGES {
            return Err(ImportError::Api(ApiError::new(
                Operation::ListDatapoints { project_id },
                ApiErrorKind::Malformed {
                    detail: format!(
                        "{total_pages} pages of datapoints is more than TopicScope reads ({MAX_PAGES})"
                    ),
                },
            )));
        }
        progress(ImportProgress {
            pages_done: page,
            total_pages: Some(total_pages),
            datapoints: names.pairs.len(),
            total_datapoints: Some(answer.meta.total_items),
        });
        if page >= total_pages {
            break;
        }
        page += 1;
    }
    names.hash_id_length = (lengths.len() == 1)
        .then(|| lengths.first().copied())
        .flatten();
    Ok(names)
}

struct Shared {
    progress: Mutex<ImportProgress>,
    result: Mutex<Option<Result<DatapointNames, ImportError>>>,
    cancel: AtomicBool,
    notify: Option<Box<dyn Fn() + Send + Sync>>,
}

/// An import running on its own thread (`topicscope-datapoint-import`).
pub struct DatapointImport {
    project_id: u64,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for DatapointImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatapointImport")
            .field("project_id", &self.project_id)
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl DatapointImport {
    /// Starts reading the names of `project_id`. `notify` is called after each page and at the
    /// end (e.g. to ask the window for a repaint); it must not block.
    pub fn start(
        client: Arc<AedifionClient>,
        project_id: u64,
        notify: Option<Box<dyn Fn() + Send + Sync>>,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            progress: Mutex::new(ImportProgress::default()),
            result: Mutex::new(None),
            cancel: AtomicBool::new(false),
            notify,
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("topicscope-datapoint-import".into())
            .spawn(move || {
                let ping = || {
                    if let Some(notify) = &worker.notify {
                        notify();
                    }
                };
                let result = fetch_datapoint_names(&client, project_id, &worker.cancel, &mut |p| {
                    *worker
                        .progress
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = p;
                    ping();
                });
                *worker.result.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
                ping();
            })?;
        Ok(Self {
            project_id,
            shared,
            thread: Some(thread),
        })
    }

    /// The project being read.
    pub fn project_id(&self) -> u64 {
        self.project_id
    }

    /// How far it got.
    pub fn progress(&self) -> ImportProgress {
        *self
            .shared
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks it to stop after the current page.
    pub fn cancel(&self) {
        self.shared.cancel.store(true, Ordering::Relaxed);
    }

    /// The result once it ended (taken: later calls return `None`).
    pub fn take_result(&mut self) -> Option<Result<DatapointNames, ImportError>> {
        let result = self
            .shared
            .result
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if result.is_some()
            && let Some(thread) = self.thread.take()
        {
            // It has stored its result: joining is immediate.
            let _ = thread.join();
        }
        result
    }
}

impl Drop for DatapointImport {
    fn drop(&mut self) {
        self.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_fraction_counts_pages() {
        let mut progress = ImportProgress::default();
        assert_eq!(progress.fraction(), 0.0);
        progress.total_pages = Some(4);
        progress.pages_done = 1;
        assert_eq!(progress.fraction(), 0.25);
        progress.total_pages = Some(0);
        assert_eq!(progress.fraction(), 1.0);
    }
}
