//! Every page fits: as every role, in both languages, a 390 px phone never
//! scrolls sideways (wide tables scroll inside their card), and at 1280 px
//! no table is wider than the card that holds it (no column hidden past
//! the edge). In Chinese, the text on screen once the page's script has
//! run carries no English word outside the allow-list of the HTTP walk
//! (`chinese`); in both, no date or ratio in a machine's format.
//! Screenshots of each page at both widths.

use crate::chinese::EveryPage;
use crate::common::browser::{Browser, available};
use crate::common::reading::{allowed_words, foreign_words, latin_words_in, machine_formats};
use crate::common::web::PASSWORD;

/// Tables wider than their container, as "id width>container".
const WIDE_TABLES: &str = "const out = [];
    for (const t of document.querySelectorAll('main table')) {
      const box = t.parentElement.getBoundingClientRect();
      const w = t.getBoundingClientRect().width;
      if (w > box.width + 1) out.push((t.id || t.className || 'table') + ' ' + Math.round(w) + '>' + Math.round(box.width));
    }
    return out.join(', ');";

/// The text a reader sees once the page's script has run (previews,
/// counters, tabs it adds): `innerText`, without code, examples and typed
/// text, plus the attributes shown to people.
const READ_TEXT: &str = "const quiet = [...document.querySelectorAll('code, pre, kbd, samp, textarea')];
    const kept = quiet.map((e) => e.style.display);
    for (const e of quiet) e.style.display = 'none';
    let text = document.body.innerText;
    quiet.forEach((e, i) => { e.style.display = kept[i]; });
    for (const e of document.body.querySelectorAll('[placeholder], [title], [aria-label], [alt]')) {
      if (e.closest('code, pre, kbd, samp')) continue;
      for (const a of ['placeholder', 'title', 'aria-label', 'alt']) {
        const v = e.getAttribute(a);
        if (v) text += ' ' + v + ' ';
      }
    }
    return text;";

/// Table cells with Chinese text that may break inside a word (浅/层).
const SPLIT_CELLS: &str = "return [...document.querySelectorAll('main td, main th')]
      .filter((c) => /[\\u4e00-\\u9fff]/.test(c.innerText) && getComputedStyle(c).wordBreak !== 'keep-all')
      .slice(0, 5).map((c) => c.innerText.slice(0, 20)).join(', ');";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_phone_and_a_laptop_in_both_languages_for_every_role() {
    if !available() {
        return;
    }
    let every = EveryPage::new().await;
    let base = &every.app.base;
    let b = Browser::start().await;
    let allowed = allowed_words();
    let mut problems = Vec::new();
    for role in ["admin", "researcher", "analyst", "manager"] {
        b.sign_in(base, &format!("{role}@test.example"), PASSWORD).await;
        for lang in ["en", "zh-CN"] {
            b.goto(&format!("{base}/")).await;
            b.wait_for("#lang-select").await;
            b.click(&format!("#lang-select option[value='{lang}']")).await;
            b.wait_for(&format!("html[lang='{lang}']")).await;
            for width in [1280, 390] {
                b.set_width(width).await;
                for path in &every.pages {
                    b.goto(&format!("{base}{path}")).await;
                    b.wait_for("h1").await;
                    let forbidden = b
                        .script("return document.title.includes('Forbidden') || document.title.includes('无权访问');")
                        .await;
                    if forbidden.as_bool() == Some(true) {
                        continue;
                    }
                    let (over, what) = b.overflow_x().await;
                    if over != 0 {
                        problems.push(format!("{role} {lang} {width}px {path}: {over}px too wide: {what}"));
                    }
                    if width == 1280 {
                        // What the reader sees, script's text included:
                        // in Chinese no English word, in both languages no
                        // machine's date or ratio.
                        let text = b.script(READ_TEXT).await;
                        let text = text.as_str().unwrap_or_default();
                        assert!(
                            lang == "en" || text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                            "{role} {path}: no Chinese text read: {text}"
                        );
                        if lang == "zh-CN" {
                            let split = b.script(SPLIT_CELLS).await;
                            let split = split.as_str().unwrap_or_default();
                            if !split.is_empty() {
                                problems.push(format!("{role} {lang} {path}: cells that split words: {split}"));
                            }
                            let foreign = foreign_words(latin_words_in(text), &allowed);
                            if !foreign.is_empty() {
                                problems.push(format!("{role} {lang} {path}: English words: {foreign:?}"));
                            }
                        }
                        let machine = machine_formats(text);
                        if !machine.is_empty() {
                            problems.push(format!("{role} {lang} {path}: machine formats: {machine:?}"));
                        }
                        let wide = b.script(WIDE_TABLES).await;
                        let wide = wide.as_str().unwrap_or_default();
                        if !wide.is_empty() {
                            problems.push(format!("{role} {lang} {width}px {path}: tables past their card: {wide}"));
                        }
                    }
                    if role == "admin" || role == "manager" {
                        let name = path.trim_matches('/').replace(['/', '?', '=', '@'], "-");
                        let name = if name.is_empty() { "overview".to_string() } else { name };
                        b.screenshot(&format!("layout-{role}-{lang}-{width}-{name}")).await;
                    }
                }
            }
        }
        b.set_width(1280).await;
        b.goto(&format!("{base}/")).await;
        b.sign_out().await;
    }
    for path in &every.participant_pages {
        b.set_width(390).await;
        b.goto(&format!("{base}{path}")).await;
        b.wait_for("h1").await;
        let (over, what) = b.overflow_x().await;
        if over != 0 {
            problems.push(format!("participant 390px {path}: {over}px too wide: {what}"));
        }
        // The study is in Chinese: so is its page, with the day tabs the
        // script adds.
        let text = b.script(READ_TEXT).await;
        let text = text.as_str().unwrap_or_default();
        let foreign = foreign_words(latin_words_in(text), &allowed);
        if !foreign.is_empty() {
            problems.push(format!("participant {path}: English words: {foreign:?}"));
        }
        let machine = machine_formats(text);
        if !machine.is_empty() {
            problems.push(format!("participant {path}: machine formats: {machine:?}"));
        }
    }
    b.quit().await;
    assert!(problems.is_empty(), "pages that do not fit:\n{}", problems.join("\n"));
    every.app.finish().await;
}
