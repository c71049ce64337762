use super::ValidationError;

/// A validated page request: `page` ≥ 1, `page_size` in 1..=100.
///
/// ```
/// use anb_domain::PageRequest;
/// let p = PageRequest::new(Some(3), Some(10)).unwrap();
/// assert_eq!((p.offset(), p.limit()), (20, 10));
/// assert!(PageRequest::new(Some(0), None).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    page_size: u32,
}

impl PageRequest {
    /// Page used when none is given.
    pub const DEFAULT_PAGE: u32 = 1;
    /// Page size used when none is given.
    pub const DEFAULT_SIZE: u32 = 20;
    /// Largest page size.
    pub const MAX_SIZE: u32 = 100;

    /// Validates raw paging values, defaulting missing ones.
    ///
    /// # Errors
    /// [`ValidationError`] on `page` (< 1, or so large the offset overflows) or `page_size`
    /// (outside 1..=100).
    pub fn new(page: Option<i64>, page_size: Option<i64>) -> Result<Self, ValidationError> {
        let page = page.unwrap_or(Self::DEFAULT_PAGE.into());
        let page_size = page_size.unwrap_or(Self::DEFAULT_SIZE.into());
        if !(1..=i64::from(Self::MAX_SIZE)).contains(&page_size) {
            return Err(ValidationError::new(
                "page_size",
                format!("must be between 1 and {}", Self::MAX_SIZE),
            ));
        }
        // Offsets must stay representable as i64 in every backend.
        if page < 1 || page > i64::from(u32::MAX) {
            return Err(ValidationError::new("page", "must be a positive integer"));
        }
        Ok(Self {
            page: page as u32,
            page_size: page_size as u32,
        })
    }

    /// The first page of `page_size` items (panics if `page_size` is outside 1..=100: for
    /// constants in code, not user input).
    pub fn first(page_size: u32) -> Self {
        Self::new(Some(1), Some(page_size.into())).expect("page size within 1..=100")
    }

    /// 1-based page number.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// Items per page.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// Items to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.page_size)
    }

    /// Items to take.
    pub fn limit(&self) -> u64 {
        u64::from(self.page_size)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: Self::DEFAULT_PAGE,
            page_size: Self::DEFAULT_SIZE,
        }
    }
}

/// One page of a list and the total number of items across all pages.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items of this page, in the list's order.
    pub items: Vec<T>,
    /// Items across all pages (the `X-Total-Count` header).
    pub total: u64,
    /// The request this page answers.
    pub request: PageRequest,
}

impl<T> Page<T> {
    /// Applies `f` to every item, keeping the paging.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            request: self.request,
        }
    }

    /// Number of pages with `total` items (0 when the list is empty).
    pub fn page_count(&self) -> u64 {
        self.total.div_ceil(self.request.limit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn accepted_paging_is_exactly_the_documented_range(page in -5i64..10_000_000_000, size in -5i64..200) {
            let ok = PageRequest::new(Some(page), Some(size));
            let valid = (1..=u32::MAX as i64).contains(&page) && (1..=100).contains(&size);
            prop_assert_eq!(ok.is_ok(), valid);
            if let Ok(p) = ok {
                prop_assert_eq!(p.offset(), (page as u64 - 1) * size as u64);
            }
        }
    }

    #[test]
    fn missing_values_default_to_the_first_page_of_twenty() {
        let p = PageRequest::new(None, None).unwrap();
        assert_eq!((p.page(), p.page_size()), (1, 20));
    }
}
