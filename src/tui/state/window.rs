//! The one scroll clamp every list pane uses: a window of `page` lines over `len` lines.

/// First line shown so that `pos` (when given) is on the page, and the page never runs past the end.
pub fn keep_visible(scroll: usize, pos: Option<usize>, page: usize, len: usize) -> usize {
    let mut s = scroll;
    if let Some(p) = pos {
        if p < s {
            s = p;
        } else if p >= s + page {
            s = p + 1 - page;
        }
    }
    s.min(len.saturating_sub(page))
}

/// First line shown after scrolling by `delta`, within the list.
pub fn scroll_by(scroll: usize, delta: isize, page: usize, len: usize) -> usize {
    let max = len.saturating_sub(page) as isize;
    (scroll as isize + delta).clamp(0, max.max(0)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_cursor_and_stays_in_the_list() {
        assert_eq!(keep_visible(10, Some(5), 4, 100), 5);
        assert_eq!(keep_visible(0, Some(5), 4, 100), 2);
        assert_eq!(keep_visible(98, None, 4, 100), 96);
        assert_eq!(keep_visible(3, None, 10, 5), 0);
        assert_eq!(scroll_by(2, -5, 4, 100), 0);
        assert_eq!(scroll_by(2, 500, 4, 100), 96);
        assert_eq!(scroll_by(0, 3, 10, 5), 0);
    }
}
