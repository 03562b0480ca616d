//! Member search and filters at scale (issue #27): organizations of 100, 10,000 and 100,000
//! members in one table, seeded straight into it (memberships and their index items, as the
//! membership's transactions write them); through the handler, as the owner: the first page
//! of a name search, of a role filter and of a rare status, the unfiltered first page and a
//! late page. p50 and p99 per request, and what each request reads.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use roster::domain::{DisplayName, Email, Member, Role, Status, Timestamp, UserId};

use super::scale::write_members;
use super::{ms, quantile};
use crate::counting::{ReadCounter, Reads};
use crate::harness::{TestApp, User};

pub const SIZES: [usize; 3] = [100, 10_000, 100_000];
/// The page size every measured request asks for.
const LIMIT: usize = 50;
/// BatchWriteItem requests in flight while seeding.
const IN_FLIGHT: usize = 8;

const FIRST: &[&str] = &[
    "Maria",
    "Mark",
    "Martin",
    "Marta",
    "Marco",
    "Mariana",
    "James",
    "John",
    "Robert",
    "Michael",
    "William",
    "David",
    "Richard",
    "Joseph",
    "Thomas",
    "Charles",
    "Daniel",
    "Matthew",
    "Anthony",
    "Steven",
    "Paul",
    "Andrew",
    "Joshua",
    "Kenneth",
    "Kevin",
    "Brian",
    "George",
    "Edward",
    "Ronald",
    "Timothy",
    "Jason",
    "Jeffrey",
    "Ryan",
    "Jacob",
    "Gary",
    "Nicholas",
    "Eric",
    "Jonathan",
    "Stephen",
    "Larry",
    "Justin",
    "Scott",
    "Brandon",
    "Benjamin",
    "Samuel",
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Elizabeth",
    "Barbara",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Nancy",
    "Lisa",
    "Betty",
    "Margaret",
    "Sandra",
    "Ashley",
    "Kimberly",
    "Emily",
    "Donna",
    "Michelle",
    "Dorothy",
    "Carol",
    "Amanda",
    "Melissa",
    "Deborah",
    "Stephanie",
    "Rebecca",
    "Sharon",
    "Laura",
    "Cynthia",
    "Kathleen",
    "Amy",
    "Shirley",
    "Angela",
    "Helen",
    "Anna",
    "Brenda",
    "Pamela",
    "Nicole",
    "Emma",
    "Samantha",
    "Katherine",
    "Christine",
    "Debra",
    "Rachel",
    "Catherine",
    "Carolyn",
    "Janet",
    "Ruth",
    "Heather",
    "Diane",
    "Virginia",
    "Julie",
    "Joyce",
    "Victoria",
    "Olivia",
    "Kelly",
    "Christina",
    "Lauren",
    "Joan",
    "Evelyn",
    "Judith",
    "José",
    "Zoë",
    "Søren",
    "Aiko",
    "Wei",
    "Priya",
    "Ahmed",
    "Fatima",
    "Olga",
    "Chloé",
    "Ingrid",
];

/// Surnames, the first ones the most common (picked with a skew: a few are widely shared).
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "Ramos",
    "Kim",
    "Cox",
    "Ward",
    "Richardson",
    "Watson",
    "Brooks",
    "Chavez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
    "Mendoza",
    "Ruiz",
    "Hughes",
    "Price",
    "Alvarez",
    "Castillo",
    "Sanders",
    "Patel",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Jiménez",
    "Müller",
    "Schröder",
    "Kowalski",
    "Nakamura",
    "O'Brien",
    "Van Dijk",
];

/// The surname of exactly one member in 1,000 (`i % 1000 == 37`): 1, 10 and 100 members.
const RARE: &str = "Okonkwo";

/// What one org's members work at; a tenth use a personal address.
const COMPANIES: [&str; 3] = ["northwind.example", "globex-corp.example", "initech.example"];
const PERSONAL: [&str; 2] = ["mail.example", "post.example"];

/// The requests measured for each organization: label, query.
const CASES: [(&str, &str); 6] = [
    ("name search, a surname held by 0.1% (`q=okonkwo`)", "q=okonkwo"),
    ("name search, a first-name prefix (`q=mar`)", "q=mar"),
    ("role filter (`role=admin`, 2% of members)", "role=admin"),
    ("rare status (`status=suspended`, 10 members)", "status=suspended"),
    ("no filter, first page", ""),
    ("no filter, late page (after 90% of the members)", "late"),
];

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A name as an address's local part has it: ASCII, lowercase, no spaces or apostrophes.
fn ascii(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'é' | 'ë' => Some('e'),
            'ö' | 'ø' | 'ó' => Some('o'),
            'ü' => Some('u'),
            'á' => Some('a'),
            'í' => Some('i'),
            ' ' | '\'' => None,
            c => Some(c.to_ascii_lowercase()),
        })
        .collect()
}

/// The members of an organization of `size` (the `org`-th measured), as `seed_members`
/// would not make them: named, with addresses, of mixed roles, exactly 10 suspended.
pub fn org_members(org: usize, size: usize, now: Timestamp) -> Vec<Member> {
    let suspended: Vec<usize> = (0..10).map(|k| k * size / 10 + 7).collect();
    let mut taken: HashMap<String, usize> = HashMap::new();
    (0..size)
        .map(|i| {
            let r = splitmix(((org as u64) << 32) | i as u64);
            let first = FIRST[(r % FIRST.len() as u64) as usize];
            // Skewed: index ~ L·u², so the first surnames are shared widely.
            let u = ((r >> 20) % 10_000) as f64 / 10_000.0;
            let last = if i % 1000 == 37 { RARE } else { LAST[(LAST.len() as f64 * u * u) as usize] };
            let domain = if (r >> 40) % 10 == 0 { PERSONAL[(r >> 44) as usize % 2] } else { COMPANIES[org] };
            let local = format!("{}.{}", ascii(first), ascii(last));
            let seen = taken.entry(format!("{local}@{domain}")).or_default();
            *seen += 1;
            let address =
                if *seen == 1 { format!("{local}@{domain}") } else { format!("{local}{seen}@{domain}") };
            let role = if i % 50 == 13 {
                Role::Admin
            } else if (r >> 50) % 10 < 3 {
                Role::Viewer
            } else {
                Role::Member
            };
            let user = UserId::parse(&format!("u{org}x{i:06}")).expect("user id");
            let joined = now.plus_millis(-((size - i) as i64) * 60_000);
            let mut member = Member::joining(
                user,
                Some(Email::parse(&address).expect("address")),
                DisplayName::clean(&format!("{first} {last}")),
                role,
                joined,
                None,
                Default::default(),
            );
            if suspended.contains(&i) {
                member.status = Status::Suspended;
                member.standing = 1;
            }
            member
        })
        .collect()
}

pub struct Seeded {
    pub size: usize,
    pub items: usize,
    pub took: Duration,
}

pub struct Row {
    pub size: usize,
    pub case: &'static str,
    pub p50: Duration,
    pub p99: Duration,
    /// Members on the page, and whether it carried a cursor.
    pub returned: usize,
    pub more: bool,
    /// DynamoDB requests per request (the read counter's view of one request).
    pub round_trips: usize,
    pub reads: Reads,
}

/// DynamoDB Local alone, per size: the suspended run's query (`begins_with`, as Roster
/// sends it, and the same range as `BETWEEN`) and a GetItem of one membership; p50.
pub struct Bare {
    pub size: usize,
    pub begins_with: Duration,
    pub between: Duration,
    pub get_item: Duration,
}

pub struct Search {
    pub seeded: Vec<Seeded>,
    pub rows: Vec<Row>,
    pub bare: Vec<Bare>,
    pub reps: usize,
    /// Where the late page starts, per size.
    pub late_offsets: Vec<usize>,
}

/// The request path of `case` for `org` (`cursor`: the late page's).
fn path(org: &str, query: &str, cursor: &str) -> String {
    match query {
        "late" => format!("/orgs/{org}/members?limit={LIMIT}&cursor={cursor}"),
        "" => format!("/orgs/{org}/members?limit={LIMIT}"),
        q => format!("/orgs/{org}/members?limit={LIMIT}&{q}"),
    }
}

/// The cursor after the first `target` members of the unfiltered list, by following cursors
/// (pages of 100, or of 50 when `target` is no multiple of 100; a cursor binds the query,
/// not the page size). Returns it and the offset reached.
async fn late_cursor(app: &TestApp, owner: &User, org: &str, target: usize) -> (String, usize) {
    let step = if target % 100 == 0 { 100 } else { LIMIT };
    let (mut cursor, mut offset) = (None::<String>, 0);
    while offset < target {
        let after = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page =
            app.call(Some(owner), "GET", &format!("/orgs/{org}/members?limit={step}{after}"), None).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        cursor = Some(page.body["nextCursor"].as_str().expect("more pages").to_owned());
        offset += step;
    }
    (cursor.expect("a late page"), offset)
}

/// [`Bare`] for `org`, whose member `suspended` is suspended, `n` times each.
async fn bare(app: &TestApp, org: &str, suspended: &Member, size: usize, n: usize) -> Bare {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let org_id = roster::domain::OrgId::parse(org).expect("org id");
    let key = roster::store::member_index::index_items(&org_id, suspended)
        .into_keys()
        .filter(|sk| sk.starts_with("MS#N#") && sk.contains("#suspended#"))
        .min_by_key(String::len)
        .expect("the suspended run's item");
    let prefix = key[..=key.rfind('#').expect("a run prefix")].to_owned();
    let item = roster::store::members::member_item(&org_id, suspended);
    let pk = item["PK"].clone();
    let time = |samples: &mut Vec<Duration>, started: Instant| samples.push(started.elapsed());
    let (mut begins, mut between, mut get) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let started = Instant::now();
        let out = app
            .dynamo
            .query()
            .table_name(app.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
            .expression_attribute_values(":pk", pk.clone())
            .expression_attribute_values(":p", S(prefix.clone()))
            .consistent_read(true)
            .limit(11)
            .send()
            .await
            .expect("query");
        time(&mut begins, started);
        assert_eq!(out.count, 10, "the suspended run");
        let started = Instant::now();
        let out = app
            .dynamo
            .query()
            .table_name(app.table())
            .key_condition_expression("PK = :pk AND SK BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", pk.clone())
            .expression_attribute_values(":lo", S(prefix.clone()))
            .expression_attribute_values(":hi", S(format!("{prefix}\u{10FFFF}")))
            .consistent_read(true)
            .limit(11)
            .send()
            .await
            .expect("query");
        time(&mut between, started);
        assert_eq!(out.count, 10, "the suspended run");
        let started = Instant::now();
        app.dynamo
            .get_item()
            .table_name(app.table())
            .key("PK", pk.clone())
            .key("SK", item["SK"].clone())
            .consistent_read(true)
            .send()
            .await
            .expect("get");
        time(&mut get, started);
    }
    Bare {
        size,
        begins_with: quantile(&begins, 0.5),
        between: quantile(&between, 0.5),
        get_item: quantile(&get, 0.5),
    }
}

pub async fn run(reps: usize) -> Search {
    let mut app = TestApp::spawn().await;
    // The app's reads counted (items, and capacity when asked), through the same client.
    let reads = ReadCounter::default();
    let counted = app.app.store.client().config().to_builder().interceptor(reads.clone()).build();
    app.app.store =
        roster::store::Store::new(aws_sdk_dynamodb::Client::from_conf(counted), app.table().to_owned());
    let owner = app.user("search-owner");
    let now = Timestamp::now();
    let mut orgs = Vec::new();
    let mut seeded = Vec::new();
    let mut suspended = Vec::new();
    for (k, size) in SIZES.into_iter().enumerate() {
        let org = app.create_org(&owner, &format!("Search {size}")).await;
        let members = org_members(k, size, now);
        suspended.push(
            members.iter().find(|m| m.status == Status::Suspended).expect("a suspended member").clone(),
        );
        eprintln!("search: seeding {size} members");
        let started = Instant::now();
        let items = write_members(&app, &org, members, IN_FLIGHT).await;
        let took = started.elapsed();
        eprintln!("search: {size} members, {items} items in {:.1} s", took.as_secs_f64());
        seeded.push(Seeded { size, items, took });
        orgs.push(org);
    }
    let mut cursors = Vec::new();
    let mut late_offsets = Vec::new();
    for (org, size) in orgs.iter().zip(SIZES) {
        let target = size * 9 / 10 / LIMIT * LIMIT;
        eprintln!("search: following cursors past {target} members");
        let (cursor, offset) = late_cursor(&app, &owner, org, target).await;
        cursors.push(cursor);
        late_offsets.push(offset);
    }
    let paths: Vec<Vec<String>> = orgs
        .iter()
        .zip(&cursors)
        .map(|(org, cursor)| CASES.iter().map(|(_, q)| path(org, q, cursor)).collect())
        .collect();
    // Untimed rounds first (DynamoDB Local's JIT), then rounds interleaving sizes and
    // requests, so that the machine's noise falls on all of them alike.
    let mut samples = vec![vec![Vec::with_capacity(reps); CASES.len()]; SIZES.len()];
    for round in 0..reps + 5 {
        for (s, by_case) in paths.iter().enumerate() {
            for (c, path) in by_case.iter().enumerate() {
                let started = Instant::now();
                let r = app.call(Some(&owner), "GET", path, None).await;
                let took = started.elapsed();
                assert_eq!(r.status, 200, "{path}: {:?}", r.body);
                if round >= 5 {
                    samples[s][c].push(took);
                }
            }
        }
    }
    // What each request reads, asked of DynamoDB on separate requests (the timed ones go
    // as the handler builds them).
    reads.set_capacity(true);
    let mut rows = Vec::new();
    for (s, by_case) in paths.iter().enumerate() {
        for (c, path) in by_case.iter().enumerate() {
            reads.take();
            let r = app.call(Some(&owner), "GET", path, None).await;
            let read = reads.take();
            rows.push(Row {
                size: SIZES[s],
                case: CASES[c].0,
                p50: quantile(&samples[s][c], 0.5),
                p99: quantile(&samples[s][c], 0.99),
                returned: r.body["members"].as_array().map_or(0, Vec::len),
                more: r.body["nextCursor"].is_string(),
                round_trips: read.requests,
                reads: read,
            });
        }
    }
    reads.set_capacity(false);
    let mut bares = Vec::new();
    for ((org, member), size) in orgs.iter().zip(&suspended).zip(SIZES) {
        bares.push(bare(&app, org, member, size, 30).await);
    }
    Search { seeded, rows, bare: bares, reps, late_offsets }
}

fn size_label(size: usize) -> String {
    match size {
        100_000 => "100,000".into(),
        10_000 => "10,000".into(),
        n => n.to_string(),
    }
}

pub fn markdown(s: &Search) -> String {
    let mut out = String::new();
    let seeding: Vec<String> = s
        .seeded
        .iter()
        .map(|d| {
            format!("{} members ({} items) in {:.1} s", size_label(d.size), d.items, d.took.as_secs_f64())
        })
        .collect();
    let big = s.seeded.iter().max_by_key(|d| d.size);
    out.push_str(&format!(
        "Seeded straight into one table with BatchWriteItem (25 items a request, {IN_FLIGHT} in flight, \
         unprocessed items sent again), each membership with its index items as its transactions \
         write them: {}{}.\n\n",
        seeding.join("; "),
        big.map_or(String::new(), |d| format!(
            " ({:.0} items a second at 100,000)",
            d.items as f64 / d.took.as_secs_f64()
        )),
    ));
    out.push_str(&format!(
        "Each request asks for a page of {LIMIT}, through the handler, as the owner; {} timed rounds \
         (after 5 untimed), sizes and requests interleaved. *Items read*: what DynamoDB's \
         responses hold for one request (a Query's `ScannedCount`, the items of a GetItem and of a \
         BatchGetItem), by operation; *RCU*: the read capacity DynamoDB Local reports for it \
         (`ReturnConsumedCapacity=TOTAL`, asked on a separate, untimed request). The late page \
         starts after {} members (reached by following cursors).\n\n",
        s.reps,
        s.late_offsets
            .iter()
            .zip(SIZES)
            .map(|(o, n)| format!("{o} of {}", size_label(n)))
            .collect::<Vec<_>>()
            .join(", "),
    ));
    out.push_str(
        "| Organization | Request | Returned | p50 ms | p99 ms | Items read | RCU | DynamoDB reads |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for row in &s.rows {
        let by_op: Vec<String> =
            row.reads.items_by_operation.iter().map(|(op, n)| format!("{op} {n}")).collect();
        out.push_str(&format!(
            "| {} | {} | {}{} | {} | {} | {} ({}) | {} | {} |\n",
            size_label(row.size),
            row.case,
            row.returned,
            if row.more { " + cursor" } else { "" },
            ms(row.p50),
            ms(row.p99),
            row.reads.items,
            by_op.join(", "),
            if row.reads.capacity_reported {
                format!("{:.1}", row.reads.capacity)
            } else {
                "not reported".into()
            },
            row.round_trips,
        ));
    }
    out.push_str(
        "\n| Request | p50 100,000 ÷ 100 | p99 100,000 ÷ 100 | Goal ≤ 1.5× | p50 100,000 ÷ 10,000 | Items read at 100 / 10,000 / 100,000 |\n\
         |---|---|---|---|---|---|\n",
    );
    for (case, _) in CASES {
        let of = |size: usize| s.rows.iter().find(|r| r.size == size && r.case == case);
        let (Some(small), Some(mid), Some(large)) = (of(SIZES[0]), of(SIZES[1]), of(SIZES[2])) else {
            continue;
        };
        let p50 = large.p50.as_secs_f64() / small.p50.as_secs_f64();
        let p99 = large.p99.as_secs_f64() / small.p99.as_secs_f64();
        // Like for like where the 100-member organization holds fewer matches than a page.
        let tenfold = large.p50.as_secs_f64() / mid.p50.as_secs_f64();
        out.push_str(&format!(
            "| {case} | {p50:.2}× | {p99:.2}× | {} | {tenfold:.2}× | {} / {} / {} |\n",
            match (p50 <= 1.5, p99 <= 1.5) {
                (true, true) => "met",
                (true, false) => "p50 met, p99 not",
                (false, true) => "p99 met, p50 not",
                (false, false) => "**not met**",
            },
            small.reads.items,
            mid.reads.items,
            large.reads.items,
        ));
    }
    out.push_str(
        "\nDynamoDB Local alone (no Roster), 30 times each, to tell its behaviour from ours: the query \
         the rare status sends (10 items of the suspended run), as Roster sends it and with the \
         same range as `BETWEEN`, and a GetItem of one membership of the same partition.\n\n\
         | Organization | Items seeded into its partition | Query `begins_with` p50 ms | Query `BETWEEN` p50 ms | GetItem p50 ms |\n\
         |---|---|---|---|---|\n",
    );
    for b in &s.bare {
        let items = s.seeded.iter().find(|d| d.size == b.size).map_or(0, |d| d.items);
        out.push_str(&format!(
            "| {} | {items} | {} | {} | {} |\n",
            size_label(b.size),
            ms(b.begins_with),
            ms(b.between),
            ms(b.get_item)
        ));
    }
    out
}
