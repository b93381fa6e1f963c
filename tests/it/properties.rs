//! Properties of the model and of imports: the order of events, splitting a
//! file into parts, and importing twice change no number.

use chrono::NaiveDate;
use proptest::prelude::*;

use crate::common::TestDb;
use undercurrent::app::evaluate::compute;
use undercurrent::app::export::table;
use undercurrent::app::import::import_events;
use undercurrent::app::settings::load;
use undercurrent::domain::calendar::Window;
use undercurrent::domain::dataset::{ChannelType, Dataset, Event, Person};
use undercurrent::domain::kind::{KNOWN_KINDS, Kind, KindMap};
use undercurrent::domain::metrics::compute_counters;
use undercurrent::ingest::source::open;

const BASE: i64 = 1_779_000_000; // mid-May 2026

fn arb_event(people: u32) -> impl Strategy<Value = Event> {
    (0..people, 0i64..(30 * 86_400), 0usize..13, 0u32..4).prop_map(|(person, offset, kind, channel)| Event {
        person,
        // Cluster events so that sessions, replies and ties happen.
        ts: BASE + (offset / 97) * 60,
        kind: KNOWN_KINDS[kind].0,
        channel,
        channel_type: ChannelType::Group,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn event_order_changes_no_number(events in prop::collection::vec(arb_event(4), 0..300), seed in any::<u64>()) {
        let people: Vec<Person> = (0..4).map(|i| Person { user_id: format!("p{i}"), ..Person::default() }).collect();
        let window = Window::new(NaiveDate::from_ymd_opt(2026, 6, 5).unwrap(), 28, chrono_tz::Asia::Shanghai);
        let kinds = KindMap::default();
        let a = compute_counters(&Dataset { people: people.clone(), events: events.clone(), facts: vec![] }, &window, &kinds);
        let mut shuffled = events;
        // A deterministic shuffle driven by the generated seed.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let b = compute_counters(&Dataset { people, events: shuffled, facts: vec![] }, &window, &kinds);
        prop_assert_eq!(a, b);
    }
}

/// Random event rows as CSV lines (no header), with repeats and some ids.
fn arb_rows() -> impl Strategy<Value = Vec<String>> {
    let row = (0u32..5, 0i64..(20 * 86_400), 0usize..13, 0u32..3, prop::option::weighted(0.3, 0u32..40));
    prop::collection::vec(row, 1..120).prop_map(|rows| {
        rows.into_iter()
            .map(|(p, offset, kind, channel, id)| {
                let ts = BASE + (offset / 300) * 60;
                let kind = KNOWN_KINDS[kind].1;
                let id = id.map(|i| format!("e{i}")).unwrap_or_default();
                // Ids are unique to an event: reuse an id only with the same content.
                let (ts, p, kind, channel) = match &id[..] {
                    "" => (ts, p, kind, channel),
                    _ => {
                        let n: i64 = id[1..].parse().unwrap();
                        (BASE + n * 3600, (n % 5) as u32, KNOWN_KINDS[(n % 13) as usize].1, (n % 3) as u32)
                    }
                };
                format!("{id},U{p},{ts},{kind},c{channel}")
            })
            .collect()
    })
}

const HEADER: &str = "event_id,user_id,timestamp,event,channel\n";

async fn import_parts(t: &TestDb, parts: &[Vec<String>]) {
    let tz = load(&t.db).await.unwrap().timezone;
    for (i, part) in parts.iter().enumerate() {
        let text = format!("{HEADER}{}\n", part.join("\n"));
        let input = open(&format!("part{i}.csv"), std::io::Cursor::new(text.into_bytes())).unwrap();
        import_events(&t.db, tz, input).await.unwrap();
    }
}

async fn export(t: &TestDb) -> Vec<Vec<String>> {
    let settings = load(&t.db).await.unwrap();
    let c = compute(&t.db, &settings, NaiveDate::from_ymd_opt(2026, 6, 5), None).await.unwrap();
    table(&c).1
}

proptest! {
    // Each case builds databases; a handful of cases is enough to catch an
    // order or batch dependence, and keeps the suite fast on PostgreSQL.
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn splitting_a_file_or_importing_it_twice_changes_no_number(rows in arb_rows(), cut in 0usize..1000, rotate in 0usize..1000) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let whole = TestDb::new().await;
            import_parts(&whole, std::slice::from_ref(&rows)).await;
            let once = export(&whole).await;
            import_parts(&whole, std::slice::from_ref(&rows)).await;
            assert_eq!(export(&whole).await, once, "importing twice");
            whole.finish().await;

            // The same rows in two files, in another order.
            let mut shifted = rows.clone();
            shifted.rotate_left(rotate % rows.len());
            let at = cut % (rows.len() + 1);
            let split = TestDb::new().await;
            import_parts(&split, &[shifted[at..].to_vec(), shifted[..at].to_vec()]).await;
            assert_eq!(export(&split).await, once, "split and reordered");
            split.finish().await;
        });
    }
}

#[test]
fn kinds_in_the_property_generator_are_the_core_ones() {
    assert!(KNOWN_KINDS[..13].iter().all(|(k, _, _)| k.is_core()));
    assert_eq!(KNOWN_KINDS[9].0, Kind::LOGOUT);
}
