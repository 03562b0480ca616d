# The two commands of the README, and a token for trying the local API.
.PHONY: run test token bench deploy deploy-app

run: ## Serve the API and the web app on http://127.0.0.1:3000 with DynamoDB Local and the SES emulator
	tests/stack/run.sh

test: ## Run every check and test (starts and stops its own local servers)
	tests/stack/test.sh

token: ## Print a dev token: make token SUB=alice EMAIL=alice@example.com [NAME="Alice"], or a service's: make token CLIENT=dev-service SCOPE="roster/authorize"
	@cargo run --quiet -p roster-tests --bin dev-token -- $(if $(CLIENT),--client "$(CLIENT)",--sub "$(SUB)") \
		$(if $(SCOPE),--scope "$(SCOPE)") $(if $(EMAIL),--email "$(EMAIL)") $(if $(NAME),--name "$(NAME)")

bench: ## Measure round trips, latency, cold starts, sizes and scale into BENCHMARKS.md
	tests/stack/bench.sh

deploy: ## Deploy to AWS with SAM and upload the web app (first time: make deploy GUIDED=1)
	GUIDED=$(GUIDED) infra/deploy.sh

deploy-app: ## Upload the web app only, after a change to web/ alone (builds web/dist, then infra/deploy-app.sh)
	cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build
	infra/deploy-app.sh
