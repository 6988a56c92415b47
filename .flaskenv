FLASK_APP=quizbot.cli:create_cli_app
