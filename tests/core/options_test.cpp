#include "epe/core/options.h"

#include <gtest/gtest.h>

#include <sstream>

#include "epe/core/error.h"
#include "test_util.h"

namespace epe {

namespace {
struct Opts {
  std::string list;
  int crop_size = 196;
  double tau = 0.5;
  bool force = false;
  std::vector<std::string> lists;
  std::vector<double> bands = {0.5, 1.0};
  std::uint64_t seed = 0;
};

void bind(OptionSet& s, Opts& o) {
  s.add("list", &o.list, "file list").required();
  s.add("crop-size", &o.crop_size, "crop side");
  s.add("min-cosine", &o.tau, "threshold");
  s.add("force", &o.force, "overwrite").not_recorded();
  s.add("extra", &o.lists, "more lists");
  s.add("bands", &o.bands, "band edges");
  s.add("seed", &o.seed, "seed");
}
// Parses `args` with a fresh Opts binding; returns the UserError message.
std::string parse_error(const std::vector<std::string>& args) {
  Opts o;
  OptionSet s("epe t", "test");
  bind(s, o);
  return test::user_error_message([&] { s.parse(args); });
}
bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}
}  // namespace

TEST(Options, DefaultsStayAndCommandLineOverrides) {
  Opts o;
  OptionSet s("epe t", "test");
  bind(s, o);
  ASSERT_TRUE(s.parse({"--list", "a.csv", "--crop-size", "64", "--force", "--extra", "x", "--extra", "y", "--bands",
                       "0.1, 0.2,0.3", "--seed", "18446744073709551615"}));
  EXPECT_EQ(o.list, "a.csv");
  EXPECT_EQ(o.crop_size, 64);
  EXPECT_DOUBLE_EQ(o.tau, 0.5);
  EXPECT_TRUE(o.force);
  EXPECT_EQ(o.lists, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(o.bands, (std::vector<double>{0.1, 0.2, 0.3}));
  EXPECT_EQ(o.seed, 18446744073709551615ULL);
  EXPECT_TRUE(s.given("crop-size"));
  EXPECT_FALSE(s.given("min-cosine"));
}

TEST(Options, ConfigFileIsReadAndTheCommandLineWins) {
  test::TempDir dir;
  std::string ini = dir / "c.ini";
  test::write_text(ini, "# comment\nlist = from_config.csv\ncrop-size = 100\nmin-cosine = 0.7\nforce = true\n");
  Opts o;
  OptionSet s("epe t", "test");
  bind(s, o);
  ASSERT_TRUE(s.parse({"--config", ini, "--crop-size", "32"}));
  EXPECT_EQ(o.list, "from_config.csv");
  EXPECT_EQ(o.crop_size, 32);
  EXPECT_DOUBLE_EQ(o.tau, 0.7);
  EXPECT_TRUE(o.force);
}

TEST(Options, UnknownConfigKeyNamesTheFileAndLine) {
  test::TempDir dir;
  std::string ini = dir / "bad.ini";
  test::write_text(ini, "list = a.csv\n\ncrop-sise = 100\n");
  std::string m = parse_error({"--config", ini});
  EXPECT_TRUE(has(m, ini + ":3:")) << m;
}

TEST(Options, SectionsAndLinesWithoutEqualsNameTheirLine) {
  test::TempDir dir;
  std::string ini = dir / "bad.ini";
  test::write_text(ini, "list = a.csv\n[crops]\ncrop-size = 100\n");
  std::string m = parse_error({"--config", ini});
  EXPECT_TRUE(has(m, ini + ":3:")) << m;
  EXPECT_TRUE(has(m, "no [sections]")) << m;
  test::write_text(ini, "# c\nlist = a.csv\ncrop-size 100\n");
  m = parse_error({"--config", ini});
  EXPECT_TRUE(has(m, ini + ":3:")) << m;
}

TEST(Options, BadValuesAndMissingRequiredOptionsNameTheOption) {
  std::string m = parse_error({"--list", "a", "--crop-size", "12x"});
  EXPECT_TRUE(has(m, "--crop-size")) << m;
  EXPECT_FALSE(parse_error({"--list", "a", "--seed", "-1"}).empty());
  m = parse_error({"--crop-size", "12"});
  EXPECT_TRUE(has(m, "--list")) << m;
  EXPECT_FALSE(parse_error({"--list", "a", "--no-such-option"}).empty());
}

TEST(Options, BadConfigValueNamesTheFileAndLineAndRepeatableOptionsFromTheCommandLineWin) {
  test::TempDir dir;
  std::string ini = dir / "v.ini";
  test::write_text(ini, "list = a.csv\nextra = from_config\ncrop-size = big\n");
  std::string m = parse_error({"--config", ini});
  EXPECT_TRUE(has(m, ini + ":3:")) << m;
  EXPECT_TRUE(has(m, "--crop-size")) << m;
  Opts o;
  OptionSet s("epe t", "test");
  bind(s, o);
  ASSERT_TRUE(s.parse({"--config", ini, "--extra", "cli", "--crop-size", "5"}));
  EXPECT_EQ(o.lists, (std::vector<std::string>{"cli"}));
}

TEST(Options, ResolvedIniIsReadableByConfig) {
  test::TempDir dir;
  Opts a;
  OptionSet s1("epe t", "test");
  bind(s1, a);
  ASSERT_TRUE(s1.parse({"--list", "l.csv", "--min-cosine", "0.3", "--extra", "p", "--extra", "q", "--force"}));
  std::string ini = s1.resolved_ini();
  EXPECT_NE(ini.find("min-cosine = 0.3\n"), std::string::npos) << ini;
  EXPECT_EQ(ini.find("force"), std::string::npos) << "not_recorded options stay out";
  test::write_text(dir / "r.ini", ini);
  Opts b;
  OptionSet s2("epe t", "test");
  bind(s2, b);
  ASSERT_TRUE(s2.parse({"--config", dir / "r.ini"}));
  EXPECT_EQ(b.list, "l.csv");
  EXPECT_DOUBLE_EQ(b.tau, 0.3);
  EXPECT_EQ(b.lists, (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(b.bands, a.bands);
}

TEST(Options, HelpShowsDefaultsAndStopsParsing) {
  Opts o;
  OptionSet s("epe t --list FILE", "Test command.");
  bind(s, o);
  std::ostringstream help;
  EXPECT_FALSE(s.parse({"--help"}, help));
  EXPECT_NE(help.str().find("Usage: epe t --list FILE"), std::string::npos);
  EXPECT_NE(help.str().find("(=196)"), std::string::npos) << help.str();
  EXPECT_NE(help.str().find("[required]"), std::string::npos);
}

TEST(Options, PositionalArguments) {
  std::vector<std::string> files;
  OptionSet s("epe info FILE...", "x");
  s.add("file", &files, "files").required().positional(-1);
  ASSERT_TRUE(s.parse({"a.h5", "b.h5"}));
  EXPECT_EQ(files, (std::vector<std::string>{"a.h5", "b.h5"}));
}

enum class Shape { square, round };
const Choices<Shape>& shapes() {
  static const Choices<Shape> c{{"square", Shape::square}, {"round", Shape::round}};
  return c;
}

TEST(Options, EnumOptionsTakeTheirNamesAndRecordThem) {
  Shape shape = Shape::round;
  OptionSet s("epe t", "test");
  s.add("shape", &shape, "the shape", shapes());
  EXPECT_TRUE(has(s.help_text(), "the shape (square | round)")) << s.help_text();
  EXPECT_TRUE(has(s.help_text(), "(=round)")) << s.help_text();
  ASSERT_TRUE(s.parse({"--shape", "square"}));
  EXPECT_EQ(shape, Shape::square);
  EXPECT_EQ(s.resolved_ini(), "shape = square\n");
  EXPECT_EQ(test::user_error_message([&] {
              s.parse({"--shape", "oval"});
            }),
            "option --shape: 'oval' is not one of square | round");
  EXPECT_EQ(parse_choice(shapes(), "round", "--shape"), Shape::round);
  EXPECT_EQ(choice_name(shapes(), Shape::square), "square");
}

TEST(Options, OptionalAndListEnumOptions) {
  std::optional<Shape> override_shape;
  std::vector<Shape> shapes_wanted = {Shape::round};
  OptionSet s("epe t", "test");
  s.add("override", &override_shape, "an override", shapes());
  s.add("shapes", &shapes_wanted, "the shapes", shapes());
  EXPECT_TRUE(has(s.help_text(), "an override (square | round; empty = unset)")) << s.help_text();
  ASSERT_TRUE(s.parse({}));
  EXPECT_FALSE(override_shape.has_value());
  EXPECT_EQ(s.resolved_ini(), "override = \nshapes = round\n");
  ASSERT_TRUE(s.parse({"--override", "square", "--shapes", "square, round,square"}));
  EXPECT_EQ(override_shape, Shape::square);
  EXPECT_EQ(shapes_wanted, (std::vector<Shape>{Shape::square, Shape::round, Shape::square}));
  EXPECT_EQ(s.resolved_ini(), "override = square\nshapes = square,round,square\n");
  EXPECT_EQ(test::user_error_message([&] {
              s.parse({"--shapes", "square,oval"});
            }),
            "option --shapes: 'oval' is not one of square | round");
}

TEST(Options, SplitAndJoin) {
  EXPECT_EQ(split_list(" a, b ,,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(join({"a", "b"}, "+"), "a+b");
}

}  // namespace epe
