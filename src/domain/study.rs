//! Study templates: a starting point per scenario and language (title, goal,
//! invitation, consent statement, interview guide) that a researcher edits
//! afterwards, and the `{name}` placeholder filling used for message texts.
//! Pure: no I/O.

use super::profile::ProfileId;

/// The language of a study's texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    En,
    ZhCn,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::ZhCn];

    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::ZhCn => "zh-CN",
        }
    }

    /// `"en"` or `"zh-CN"` (ASCII case and surrounding spaces ignored).
    pub fn parse(s: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A starting point for a study: a researcher edits everything afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudyTemplate {
    pub scenario: ProfileId,
    /// For the team only.
    pub title: String,
    pub goal: String,
    /// What invited people see: neutral, about their experience, never the
    /// team's question.
    pub participant_title: String,
    pub participant_description: String,
    pub interview_minutes: u32,
    /// May use [`INVITATION_PLACEHOLDERS`].
    pub invitation_subject: String,
    /// May use [`INVITATION_PLACEHOLDERS`].
    pub invitation_body: String,
    pub consent: String,
    /// The suggested interview guide, one question per entry.
    pub guide: Vec<String>,
}

/// The placeholders an invitation may use, with what each becomes:
/// - `{name}`: the invited person's display name;
/// - `{study}`: the study's title as invited people see it (its participant
///   title, never the internal one);
/// - `{minutes}`: the interview length in minutes;
/// - `{link}`: the person's own booking link (pick a time);
/// - `{opt_out_link}`: the link that stops all research contact with the person;
/// - `{deadline}`: the last day to book, as a date in the study's language.
pub const INVITATION_PLACEHOLDERS: &[&str] = &["name", "study", "minutes", "link", "opt_out_link", "deadline"];

/// The default interview length.
pub const DEFAULT_INTERVIEW_MINUTES: u32 = 30;

/// The built-in template of `scenario` in `lang`.
pub fn template(scenario: ProfileId, lang: Language) -> StudyTemplate {
    let t = texts(scenario, lang);
    let (body, consent, face_title, face_description) = match lang {
        Language::En => (BODY_EN, CONSENT_EN, FACE_TITLE_EN, FACE_DESCRIPTION_EN),
        Language::ZhCn => (BODY_ZH, CONSENT_ZH, FACE_TITLE_ZH, FACE_DESCRIPTION_ZH),
    };
    // `{topic}` is internal to the built-in texts; every other placeholder is left for sending.
    let topic = [("topic", t.topic)];
    StudyTemplate {
        scenario,
        title: t.title.to_string(),
        goal: t.goal.to_string(),
        participant_title: fill(face_title, &topic),
        participant_description: fill(face_description, &topic),
        interview_minutes: DEFAULT_INTERVIEW_MINUTES,
        invitation_subject: t.subject.to_string(),
        invitation_body: fill(body, &topic),
        consent: consent.to_string(),
        guide: t.guide.iter().map(|q| q.to_string()).collect(),
    }
}

/// The title invited people see: the study's participant title, or, when
/// it has none, a neutral one in the study's language. Never the internal
/// title.
pub fn participant_title(participant_title: &str, lang: Language) -> String {
    match participant_title.trim() {
        "" => match lang {
            Language::En => NEUTRAL_TITLE_EN,
            Language::ZhCn => NEUTRAL_TITLE_ZH,
        }
        .to_string(),
        t => t.to_string(),
    }
}

/// Replaces `{name}` style placeholders with values; unknown placeholders stay as written, braces without a name
/// are kept; never panics. A name is ASCII letters, digits and `_`. When a name is given twice, the first value
/// wins; values are inserted as they are, never filled in turn.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (start, end, name) in placeholders(text) {
        out.push_str(&text[done..start]);
        match values.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => out.push_str(v),
            None => out.push_str(&text[start..end]),
        }
        done = end;
    }
    out.push_str(&text[done..]);
    out
}

/// Placeholders in `text` that are not in `allowed` (to refuse a typo like {lnk} when a researcher saves a study),
/// each once, in order of first appearance.
pub fn unknown_placeholders(text: &str, allowed: &[&str]) -> Vec<String> {
    let mut unknown: Vec<String> = Vec::new();
    for (_, _, name) in placeholders(text) {
        if !allowed.contains(&name) && !unknown.iter().any(|u| u == name) {
            unknown.push(name.to_string());
        }
    }
    unknown
}

/// The `{name}` placeholders of `text`: byte start and end of the whole placeholder, and the name.
fn placeholders(text: &str) -> Vec<(usize, usize, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find('{') {
        let start = from + offset;
        let rest = &text[start + 1..];
        let len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
        if len > 0 && rest.as_bytes().get(len) == Some(&b'}') {
            found.push((start, start + len + 2, &rest[..len]));
            from = start + len + 2;
        } else {
            // `{` is ASCII, so `start + 1` is a char boundary.
            from = start + 1;
        }
    }
    found
}

/// The scenario-specific texts of one language.
struct Texts {
    title: &'static str,
    goal: &'static str,
    /// What the study is about, as inserted in the invitation body (`{topic}`).
    topic: &'static str,
    subject: &'static str,
    guide: &'static [&'static str],
}

fn texts(scenario: ProfileId, lang: Language) -> Texts {
    use Language::{En, ZhCn};
    use ProfileId::{CustomerService, InternalCollaboration, OnlineEducation, Social};
    match (scenario, lang) {
        (InternalCollaboration, En) => Texts {
            title: "Why do colleagues log in but not collaborate?",
            goal: "Understand why colleagues who sign in regularly rarely send messages, join calls or share files: which channels they actually use for their work, what holds them back from using the tool more, and what would make it worth using.",
            topic: "our messaging tool",
            subject: "Your experience with our messaging tool: a {minutes}-minute conversation",
            guide: &[
                "Walk me through a typical working day: how do you communicate with colleagues about work, and through which channels (e-mail, phone, meetings, chat, in person...)?",
                "When you open the messaging tool, what are you usually there to do?",
                "Which of your colleagues and teams use the tool, and how do they use it?",
                "How well does the tool fit the work you actually do? Where does it fit, and where doesn't it?",
                "How easy or hard has the tool been to learn? What, if anything, is still unclear?",
                "How has the tool worked for you on your computer or phone: speed, notifications, reliability?",
                "What, if anything, do you consider before you post or reply in the tool?",
                "What do you think the organisation can see of your use of the tool, and how do you feel about that?",
                "If you could change one thing, in the tool, in your team's habits or anything else, that would make it more useful to you, what would it be?",
            ],
        },
        (InternalCollaboration, ZhCn) => Texts {
            title: "为什么同事登录了却很少协作？",
            goal: "了解经常登录、却很少发消息、参加通话或共享文件的同事：他们平时实际通过哪些渠道沟通工作，是什么让他们没有更多地使用这个工具，以及怎样的改变会让它真正有用。",
            topic: "协作工具",
            subject: "想听听您使用协作工具的体验（约 {minutes} 分钟交流）",
            guide: &[
                "请介绍一下您典型的一个工作日：您平时通过哪些方式和同事沟通工作（邮件、电话、会议、聊天工具、当面等）？",
                "您打开这个协作工具时，通常是去做什么？",
                "您身边的同事和团队用这个工具吗？大家一般是怎么用的？",
                "这个工具和您实际的工作内容契合程度如何？哪些地方用得上，哪些地方用不上？",
                "学会使用这个工具对您来说容易还是困难？如果有的话，现在还有哪些地方不太清楚？",
                "这个工具在您的电脑或手机上用起来怎么样，比如速度、消息提醒、稳定性？",
                "在工具里发言或回复之前，您一般会考虑些什么？",
                "您觉得单位能看到您在这个工具上的哪些使用情况？您对此有什么感受？",
                "如果可以改变一件事——无论是工具本身、团队的习惯还是其他方面——让它对您更有用，您会改变什么？",
            ],
        },
        (CustomerService, En) => Texts {
            title: "Why do agents log in but handle conversations elsewhere?",
            goal: "Understand why service agents who sign in to the service workspace handle few conversations in it: where customer conversations actually happen, what draws them elsewhere, and what would make the workspace the natural place to handle them.",
            topic: "the service workspace",
            subject: "Your experience with the service workspace: a {minutes}-minute conversation",
            guide: &[
                "Walk me through a typical shift: through which channels do customer conversations reach you (the service workspace, phone, e-mail, personal chat apps, in person...)?",
                "When you open the service workspace, what do you usually do there?",
                "Think of a recent customer conversation you handled outside the workspace, if any. How did it come about, and what made that channel the right one at the time?",
                "How well does the workspace fit the way you and your team serve customers? Where does it help, and where doesn't it?",
                "How easy or hard was the workspace to learn, and how did you learn it: training, colleagues, on your own?",
                "How has the workspace worked for you: speed, reliability, notifications, switching between customers?",
                "How does your team usually handle customer conversations, and how does that shape which channel you use?",
                "What do you think the organisation can see of your work in the workspace, and how do you feel about that?",
                "If you could change one thing about the workspace or the way customer conversations reach you, what would it be?",
            ],
        },
        (CustomerService, ZhCn) => Texts {
            title: "为什么客服登录了工作台，却在别处处理会话？",
            goal: "了解登录客服工作台、却很少在其中处理会话的客服人员：客户沟通实际发生在哪些渠道，是什么让他们转到别处处理，以及怎样的改变会让工作台成为处理会话的首选。",
            topic: "客服工作台",
            subject: "想听听您使用客服工作台的体验（约 {minutes} 分钟交流）",
            guide: &[
                "请介绍一下您典型的一个班次：客户一般通过哪些渠道找到您（客服工作台、电话、邮件、个人聊天软件、当面等）？",
                "您打开客服工作台时，通常会在里面做些什么？",
                "回想最近一次在工作台之外处理的客户会话（如果有的话）：当时是怎么发生的？为什么那时选择了那个渠道？",
                "工作台和您及团队服务客户的方式契合程度如何？哪些地方有帮助，哪些地方没有？",
                "学会使用工作台对您来说容易还是困难？您是怎么学会的：培训、同事教，还是自己摸索？",
                "工作台用起来表现如何，比如速度、稳定性、消息提醒、在不同客户之间切换？",
                "您的团队通常是怎么处理客户会话的？这对您选择用哪个渠道有什么影响？",
                "您觉得单位能看到您在工作台上的哪些工作情况？您对此有什么感受？",
                "如果可以改变工作台或客户联系您的方式中的一件事，您会改变什么？",
            ],
        },
        (Social, En) => Texts {
            title: "Why do members read but not post?",
            goal: "Understand what members who regularly read the community get from it, what holds them back from posting, commenting or reacting, and what would make taking part feel worthwhile and safe.",
            topic: "the community",
            subject: "Your experience of the community: a {minutes}-minute conversation",
            guide: &[
                "Where do you usually talk with colleagues about work or shared interests: which groups, apps, meetings or places?",
                "When you open the community, what are you looking for? Tell me about your last visit.",
                "What do you get out of reading posts there, if anything?",
                "How well do the topics and posts match what you need or care about?",
                "How would you describe the way people interact there? Who posts, and who mostly reads?",
                "How easy or hard is the community to use: finding topics, writing a post, notifications, using it on your phone?",
                "What, if anything, do you consider before posting, commenting or reacting?",
                "What do you think the organisation can see of what you read and post, and how do you feel about that?",
                "What, if anything, would make you want to post or reply more often? Or is reading the right amount for you?",
            ],
        },
        (Social, ZhCn) => Texts {
            title: "为什么成员只看不发？",
            goal: "了解经常浏览社区的成员从中获得了什么，是什么让他们不太发帖、评论或点赞，以及怎样的改变会让参与变得既值得又安心。",
            topic: "社区",
            subject: "想听听您使用社区的体验（约 {minutes} 分钟交流）",
            guide: &[
                "您平时一般在哪里和同事交流工作或共同的兴趣：哪些群、应用、会议或场合？",
                "您打开社区时，一般是想找什么？能说说您最近一次浏览的情况吗？",
                "如果有的话，您从浏览社区的帖子中获得了什么？",
                "社区里的话题和帖子与您的需要或关心的事情契合程度如何？",
                "您会怎么描述大家在社区里的互动方式？谁在发帖，谁主要在看？",
                "社区用起来容易还是困难，比如找话题、写帖子、消息提醒、在手机上使用？",
                "在发帖、评论或点赞之前，您一般会考虑些什么？",
                "您觉得单位能看到您在社区里浏览和发布的哪些内容？您对此有什么感受？",
                "有什么会让您更愿意发帖或回复吗？还是说，以浏览为主对您来说正合适？",
            ],
        },
        (OnlineEducation, En) => Texts {
            title: "Why do students and teachers attend but not take part?",
            goal: "Understand why students and teachers who join online classes rarely submit or mark work, ask questions or interact: how they actually communicate about their courses, what holds them back, and what would make taking part easier.",
            topic: "online classes",
            subject: "Your experience of online classes: a {minutes}-minute conversation",
            guide: &[
                "Walk me through a typical week of your courses: how do you communicate with teachers, students or classmates, and through which channels?",
                "When you join an online class or open the course space, what do you usually do there?",
                "How well do the online activities (assignments, discussions, questions in class) fit the way you learn or teach?",
                "How easy or hard is it to submit or mark work, ask a question or reply in the tool? What did you have to figure out on your own?",
                "How have the connection, audio, video and the app itself worked for you during classes?",
                "How do others in your classes take part (speaking, chatting, submitting), and how does that affect what you do?",
                "What, if anything, do you consider before speaking up, writing in the chat or submitting something others can see?",
                "What do you think the school can see of your activity in online classes, and how do you feel about that?",
                "If you could change one thing, in the tool, the course design or anything else, to make online classes work better for you, what would it be?",
            ],
        },
        (OnlineEducation, ZhCn) => Texts {
            title: "为什么师生来上课，却很少提交作业或互动？",
            goal: "了解参加在线课程、却很少提交或批改作业、提问或互动的学生和老师：他们平时实际如何沟通课程相关的事情，是什么阻碍了他们参与，以及怎样的改变会让参与更容易。",
            topic: "在线课堂",
            subject: "想听听您参加在线课堂的体验（约 {minutes} 分钟交流）",
            guide: &[
                "请介绍一下您课程中典型的一周：您通过哪些渠道和老师、学生或同学沟通？",
                "您进入在线课堂或打开课程空间时，通常会做些什么？",
                "线上的学习活动（作业、讨论、课堂提问）和您的学习或教学方式契合程度如何？",
                "在工具里提交或批改作业、提问、回复，对您来说容易还是困难？有哪些是您自己摸索出来的？",
                "上课时，网络、音频、视频以及应用本身用起来怎么样？",
                "班上的其他人一般怎么参与（发言、聊天、交作业）？这对您自己的做法有什么影响？",
                "在发言、在聊天区写东西或提交别人能看到的内容之前，您一般会考虑些什么？",
                "您觉得学校能看到您在在线课堂上的哪些活动情况？您对此有什么感受？",
                "如果可以改变一件事——无论是工具、课程设计还是其他方面——让在线课堂更适合您，您会改变什么？",
            ],
        },
    }
}

const FACE_TITLE_EN: &str = "Your experience with {topic}";
const FACE_DESCRIPTION_EN: &str = "We are talking with a few people about how they use {topic} in their work. There are no right or wrong answers: your experience, whatever it is, helps make it work better for everyone.";
const FACE_TITLE_ZH: &str = "您使用{topic}的体验";
const FACE_DESCRIPTION_ZH: &str =
    "我们正在与少数同事交流他们在工作中使用{topic}的情况。答案没有对错之分：无论您的体验如何，都能帮助我们让它更好用。";
const NEUTRAL_TITLE_EN: &str = "A short conversation about your work";
const NEUTRAL_TITLE_ZH: &str = "关于您工作方式的简短交流";

const BODY_EN: &str = "Hello {name},

We are running a short study, \"{study}\", to understand how people really use {topic} and what would make it more useful. We would like to hear about your own experience, whatever it is: there are no right or wrong answers.

Taking part is entirely voluntary. The conversation takes about {minutes} minutes, one to one with a researcher, at a time that suits you.

We have never read your messages. We only see activity counts, such as how often people log in and how many messages they send.

If you would like to take part, please pick a time before {deadline}: {link}

If you would rather not be contacted for research at all, you can opt out here and we will not contact you again: {opt_out_link}

Thank you,
The research team";

const BODY_ZH: &str = "{name}，您好：

我们正在开展一项简短的调研——“{study}”，希望了解大家实际是怎样使用{topic}的，以及怎样才能让它更好用。我们很想听听您自己的真实体验，答案没有对错之分。

是否参加完全由您决定。交流约 {minutes} 分钟，由一位研究人员与您一对一进行，时间由您选择。

我们从未读取过您的任何消息，只能看到活动次数这类统计，例如登录频率和发送消息的数量。

如果您愿意参加，请在 {deadline} 前通过以下链接选择方便的时间：{link}

如果您不希望再收到任何调研联系，可以通过以下链接退出，我们将不会再就调研事宜联系您：{opt_out_link}

感谢您的支持！
调研团队";

const CONSENT_EN: &str = "Taking part in this interview is voluntary. During the conversation the interviewer takes written notes. We have never read your messages; we only see activity counts such as logins and the number of messages sent. Short quotes from this interview may be shared with managers only once they have been anonymised and cleared for sharing, and never with your name. You can skip any question, stop the interview, or withdraw at any time, without giving a reason and without any consequence for you. If you ask, we will erase your notes and quotes. Do you agree to take part on these terms?";

const CONSENT_ZH: &str = "本次访谈完全自愿参加。访谈过程中，研究人员会做文字笔记。我们从未读取过您的消息，只能看到登录次数、发送消息数量等活动统计。访谈中的个别原话只有在经过匿名处理、并审核允许分享后，才可能提供给管理者，且绝不会附上您的姓名。您可以跳过任何问题、随时中止访谈或退出，无需说明理由，也不会因此受到任何影响。只要您提出要求，我们就会删除与您相关的笔记和原话记录。您是否同意在上述条件下参加访谈？";

#[cfg(test)]
mod tests {
    use super::*;

    fn all_templates() -> Vec<StudyTemplate> {
        ProfileId::ALL.into_iter().flat_map(|p| Language::ALL.into_iter().map(move |l| template(p, l))).collect()
    }

    #[test]
    fn language_round_trips() {
        for l in Language::ALL {
            assert_eq!(Language::parse(l.as_str()), Some(l));
        }
        assert_eq!(Language::parse(" zh-cn "), Some(Language::ZhCn));
        assert_eq!(Language::parse("fr"), None);
        assert_eq!(Language::parse(""), None);
    }

    #[test]
    fn every_template_is_complete() {
        for p in ProfileId::ALL {
            for l in Language::ALL {
                let t = template(p, l);
                assert_eq!(t.scenario, p);
                assert_eq!(t.interview_minutes, 30);
                for field in [
                    &t.title,
                    &t.goal,
                    &t.participant_title,
                    &t.participant_description,
                    &t.invitation_subject,
                    &t.invitation_body,
                    &t.consent,
                ] {
                    assert!(!field.trim().is_empty(), "{p} {l:?}");
                }
                assert!((6..=9).contains(&t.guide.len()), "{p} {l:?}: {} questions", t.guide.len());
                assert!(t.guide.iter().all(|q| !q.trim().is_empty()), "{p} {l:?}");
                let is_zh = t.title.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
                assert_eq!(is_zh, l == Language::ZhCn, "{p} {l:?}");
            }
        }
    }

    #[test]
    fn invitations_use_only_allowed_placeholders() {
        for t in all_templates() {
            for text in [&t.invitation_subject, &t.invitation_body] {
                assert_eq!(unknown_placeholders(text, INVITATION_PLACEHOLDERS), Vec::<String>::new(), "{text}");
            }
            for needed in ["{name}", "{link}", "{opt_out_link}", "{minutes}"] {
                assert!(t.invitation_body.contains(needed), "{:?} lacks {needed}", t.scenario);
            }
            for text in [&t.title, &t.goal, &t.consent].into_iter().chain(&t.guide) {
                assert_eq!(unknown_placeholders(text, &[]), Vec::<String>::new(), "{text}");
            }
        }
    }

    /// "Hello {name},\n\nWe would like...": after the greeting's comma a
    /// new paragraph starts with a capital letter.
    #[test]
    fn every_paragraph_of_an_english_invitation_starts_with_a_capital() {
        for t in all_templates().into_iter().filter(|t| !t.invitation_body.contains('您')) {
            for paragraph in t.invitation_body.split("\n\n") {
                let first = paragraph.trim_start().chars().next();
                assert!(!first.is_some_and(|c| c.is_ascii_lowercase()), "{:?}: {paragraph}", t.scenario);
            }
        }
    }

    #[test]
    fn filled_invitation_has_no_placeholders_left() {
        let values: Vec<(&str, &str)> =
            INVITATION_PLACEHOLDERS.iter().map(|&n| (n, if n == "name" { "Li Lei" } else { "30" })).collect();
        for t in all_templates() {
            let body = fill(&t.invitation_body, &values);
            assert!(unknown_placeholders(&body, &[]).is_empty(), "{body}");
            assert!(body.contains("Li Lei") && body.contains("30"), "{body}");
        }
    }

    #[test]
    fn fill_replaces_known_and_keeps_the_rest() {
        let v = [("name", "Ana"), ("link", "https://x/b?t=1")];
        assert_eq!(fill("Hi {name}, {link}", &v), "Hi Ana, https://x/b?t=1");
        assert_eq!(fill("{name}{name}", &v), "AnaAna");
        assert_eq!(fill("see {lnk} or {link}", &v), "see {lnk} or https://x/b?t=1");
        assert_eq!(fill("", &v), "");
        assert_eq!(fill("no placeholders", &[]), "no placeholders");
        assert_eq!(fill("{name}", &[]), "{name}");
        // First value wins; values are not filled in turn.
        assert_eq!(fill("{name}", &[("name", "{link}"), ("name", "B"), ("link", "L")]), "{link}");
    }

    #[test]
    fn fill_keeps_stray_braces() {
        let v = [("name", "Ana")];
        for s in ["{", "}", "{}", "}{", "{{", "}}", "a { b } c", "{ name }", "{na me}", "{name", "name}", "{-}"] {
            assert_eq!(fill(s, &v), s);
        }
        assert_eq!(fill("{{name}}", &v), "{Ana}");
        assert_eq!(fill("{}{name}{", &v), "{}Ana{");
        assert_eq!(fill("{{}name}", &v), "{{}name}");
    }

    #[test]
    fn fill_handles_multibyte_text() {
        let v = [("name", "王芳"), ("minutes", "30")];
        assert_eq!(fill("{name}，您好：约 {minutes} 分钟", &v), "王芳，您好：约 30 分钟");
        assert_eq!(fill("{名字} {name}😀{", &v), "{名字} 王芳😀{");
        assert_eq!(fill("é{nameé}{name}", &v), "é{nameé}王芳");
        assert_eq!(fill("{😀}", &v), "{😀}");
    }

    #[test]
    fn unknown_placeholders_finds_typos() {
        let text = "Pick a time: {lnk} or {link}; {lnk} again, {Name}, {}, { x }";
        assert_eq!(unknown_placeholders(text, INVITATION_PLACEHOLDERS), vec!["lnk", "Name"]);
        assert!(unknown_placeholders("{name} {opt_out_link}", INVITATION_PLACEHOLDERS).is_empty());
        assert!(unknown_placeholders("{ { } }", &[]).is_empty());
    }
}
