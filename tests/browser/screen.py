"""What every page walk checks: the page it clicked to has arrived, and it fits the screen."""


def follow(page, link):
    """Click a link and wait for the page it leads to: a bare click does not wait, and a
    check made in between reads a document that is being replaced."""
    with page.expect_navigation():
        link.click()


def fits_the_screen(page):
    """No sideways scrolling: what a 360-px phone needs."""
    page.wait_for_load_state()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"
